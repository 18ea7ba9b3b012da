#pragma once
// The pose editor's people (image pixels, a shown flag per joint) <-> the control layer's
// PoseScene (A1111 / ComfyUI pose JSON, render_pose). The editor knows only the 18 body points;
// hands, faces and animals of a loaded scene are not carried over (fromPoseScene counts them).

#include <QList>
#include <QSize>

#include "control/pose.h"
#include "widgets/pose_editor.h"

namespace kiln::app {

// Body points in normalised coordinates (x / width, y / height), as A1111's openpose editor
// writes them, so the map scales with any output size; a hidden joint keeps its place with
// confidence 0 (pose.h's hide_point), a shown one has confidence 1.
control::PoseScene toPoseScene(const QList<widgets::PoseEditor::Person>& people, const QSize& canvas);

struct ConvertedPeople {
  QList<widgets::PoseEditor::Person> people;
  int droppedParts = 0;  // hands, faces and animals the editor cannot show
};

// People placed on `canvas`: normalised parts scaled to it, pixel parts scaled by canvas / the
// scene's canvas. A joint is shown when the reference would draw it (confidence >= 1).
ConvertedPeople fromPoseScene(const control::PoseScene& scene, const QSize& canvas);

}  // namespace kiln::app
