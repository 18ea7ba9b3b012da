// The Generate page adapting to the chosen model or LoRA: the model's native size, and a few-step
// model's or LoRA's sampler, steps and CFG scale. Split from generate_page.cpp to keep each file
// about one concept.
#include "pages/generate_page.h"

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "base/error.h"
#include "convert/few_step.h"
#include "io/weight_file.h"
#include "pages/generation_form_view.h"
#include "pages/train_session.h"
#include "services/model_library.h"

namespace kiln::app {

void GeneratePage::adaptSizeToModel() {
  const QString path = selectedModelPath();
  if (path == mSizedForModel) return;
  const auto nativeOf = [this](const QString& model) {
    if (model.isEmpty()) return 0;
    const auto entry = mLibrary->entry(model);
    return TrainSession::nativeResolution(model, entry ? entry->summary.family : QString());
  };
  const int previous = nativeOf(mSizedForModel);
  const int native = nativeOf(path);
  if (native <= 0) return;  // not known yet (the library still inspects it)
  mSizedForModel = path;
  GenerationForm f = form();
  const int low = std::max(64, native / 4), high = native * 4;
  const bool wasNative = previous > 0 && f.width == previous && f.height == previous;
  const bool outside = f.width < low || f.width > high || f.height < low || f.height > high;
  if ((!wasNative && !outside) || (f.width == native && f.height == native)) return;
  f.width = f.height = native;
  setForm(f);
  Q_EMIT message(tr("Size set to %1 × %1, the native size of %2").arg(native).arg(mForm->selectedModelName()));
}

void GeneratePage::adaptFewStepToModel() {
  const QString path = selectedModelPath();
  if (path.isEmpty() || path == mFewStepModel) return;
  // The model the page opens with keeps the settings it was left with.
  const bool first = mFewStepModel.isEmpty();
  mFewStepModel = path;
  if (!first) applyFewStepDefaults(path);
}

void GeneratePage::applyFewStepDefaults(const QString& path) {
  std::map<std::string, std::string> metadata;
  const std::filesystem::path file = path.toStdString();
  try {
    if (std::filesystem::is_regular_file(file)) metadata = io::open_weight_file(file)->metadata();
  } catch (const kiln::Error&) {
    // Unreadable: the name alone decides; loading it will say what is wrong.
  }
  const std::optional<convert::FewStepRecommendation> r = convert::detect_few_step(file, metadata);
  if (!r) return;
  GenerationForm f = form();
  f.sampler = QString::fromStdString(r->sampler);
  f.steps = r->steps;
  f.cfgScale = r->cfg;
  setForm(f);
  const QString evidence = QString::fromStdString(r->evidence), label = QString::fromStdString(r->label);
  QString reason;
  switch (r->source) {
    case convert::FewStepRecommendation::Source::Metadata:
      reason = tr("its metadata's %1 \"%2\" says %3").arg(QString::fromStdString(r->metadata_key), evidence, label);
      break;
    case convert::FewStepRecommendation::Source::Name:
      reason = tr("the name \"%1\" says %2").arg(evidence, label);
      break;
    case convert::FewStepRecommendation::Source::FolderName:
      reason = tr("the folder name \"%1\" says %2").arg(evidence, label);
      break;
  }
  Q_EMIT message(tr("%1 recognised (%2): sampler %3, %4 steps, CFG scale %5. Change them if you like.")
                     .arg(label, reason, f.sampler)
                     .arg(r->steps)
                     .arg(r->cfg));
}

}  // namespace kiln::app
