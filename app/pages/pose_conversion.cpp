#include "pages/pose_conversion.h"

namespace kiln::app {

using widgets::PoseEditor;

control::PoseScene toPoseScene(const QList<PoseEditor::Person>& people, const QSize& canvas) {
  control::PoseScene scene;
  scene.canvas_width = canvas.width();
  scene.canvas_height = canvas.height();
  const double w = std::max(1, canvas.width()), h = std::max(1, canvas.height());
  for (const PoseEditor::Person& person : people) {
    control::PosePerson out;
    for (int j = 0; j < PoseEditor::kJointCount; ++j) {
      const auto i = static_cast<std::size_t>(j);
      out.body[i] = {person.body[i].x() / w, person.body[i].y() / h, person.visible[i] ? 1.0 : 0.0};
    }
    scene.people.push_back(std::move(out));
  }
  return scene;
}

ConvertedPeople fromPoseScene(const control::PoseScene& scene, const QSize& canvas) {
  ConvertedPeople out;
  const double sx = canvas.width() / static_cast<double>(std::max(1, scene.canvas_width));
  const double sy = canvas.height() / static_cast<double>(std::max(1, scene.canvas_height));
  for (const control::PosePerson& person : scene.people) {
    const bool normalised = control::is_normalized(person.body);
    PoseEditor::Person p;
    for (int j = 0; j < PoseEditor::kJointCount; ++j) {
      const auto i = static_cast<std::size_t>(j);
      const control::Keypoint& k = person.body[i];
      p.body[i] = normalised ? QPointF(k.x * canvas.width(), k.y * canvas.height()) : QPointF(k.x * sx, k.y * sy);
      p.visible[i] = k.drawn();
    }
    out.people << p;
    out.droppedParts += (person.left_hand.empty() ? 0 : 1) + (person.right_hand.empty() ? 0 : 1) +
                        (person.face.empty() ? 0 : 1);
  }
  out.droppedParts += static_cast<int>(scene.animals.size());
  return out;
}

}  // namespace kiln::app
