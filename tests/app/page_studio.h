#pragma once
// A page of the app as the GUI tests drive it: its own settings file, a model library, and the
// page (Generate, Train, Models) built on them, shown at `size`. Torn down page first.

#include <QSize>
#include <QString>

#include <memory>

#include "services/model_library.h"
#include "state/app_settings.h"

namespace kiln::test {

template <class Page>
struct PageStudio {
  explicit PageStudio(const QString& settingsFile, QSize size = {1280, 800})
      : settings(std::make_unique<app::AppSettings>(settingsFile)),
        library(std::make_unique<app::ModelLibrary>(settings.get())),
        page(std::make_unique<Page>(library.get(), settings.get())) {
    page->resize(size);
    page->show();
  }
  ~PageStudio() {
    page.reset();
    library.reset();
    settings.reset();
  }
  PageStudio(const PageStudio&) = delete;
  PageStudio& operator=(const PageStudio&) = delete;

  std::unique_ptr<app::AppSettings> settings;
  std::unique_ptr<app::ModelLibrary> library;
  std::unique_ptr<Page> page;
};

}  // namespace kiln::test
