#pragma once
// One LoRA of a generation: merged into the model with `weight` before a run. Shared by the
// Generate page's form and the engine worker's jobs (which do not depend on the page's settings).

#include <QString>

namespace kiln::app {

struct LoRAChoice {
  QString path;
  double weight = 1.0;

  bool operator==(const LoRAChoice&) const = default;
};

}  // namespace kiln::app
