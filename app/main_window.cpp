#include "main_window.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QScreen>
#include <QStandardPaths>
#include <QStackedWidget>
#include <QStatusBar>
#include <QToolBar>
#include <QToolButton>

#include "api/api_server.h"
#include "base/runtime_info.h"
#include "downloads/catalog.h"
#include "downloads/download_manager.h"
#include "pages/api_server_dialog.h"
#include "pages/dataset_page.h"
#include "pages/generate_page.h"
#include "pages/models_page.h"
#include "pages/train_page.h"
#include "services/model_library.h"
#include "state/app_settings.h"
#include "state/language.h"
#include "widgets/theme.h"

namespace kiln::app {

namespace {

const char* const kPageId = "kilnPageId";
const char* const kIconPath = "kilnIconPath";

}  // namespace

MainWindow::MainWindow(AppSettings* settings, QWidget* parent)
    : MainWindow(settings,
                 QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/downloads.json"),
                 &downloads::Catalog::builtIn(), parent) {}

MainWindow::MainWindow(AppSettings* settings, const QString& downloadsStateFile, const downloads::Catalog* catalog,
                       QWidget* parent)
    : QMainWindow(parent),
      mSettings(settings),
      mLibrary(new ModelLibrary(settings, this)),
      mDownloads(new downloads::DownloadManager(downloadsStateFile, this)),
      mPages(new QStackedWidget(this)),
      mNavigation(new QToolBar(this)),
      mPageActions(new QActionGroup(this)) {
  setWindowTitle(QStringLiteral("Kiln"));
  setObjectName(QStringLiteral("mainWindow"));
  setCentralWidget(mPages);

  mNavigation->setObjectName(QStringLiteral("navigation"));
  mNavigation->setWindowTitle(tr("Pages"));
  mNavigation->setMovable(false);
  mNavigation->setFloatable(false);
  mNavigation->setToolButtonStyle(Qt::ToolButtonTextUnderIcon);
  mNavigation->setIconSize(QSize(28, 28));
  mNavigation->toggleViewAction()->setEnabled(false);
  addToolBar(Qt::LeftToolBarArea, mNavigation);
  mPageActions->setExclusive(true);

  mModelsPage = new ModelsPage(mLibrary, mSettings, this);
  mModelsPage->setDownloads(mDownloads, catalog);
  addPage(QStringLiteral("models"), tr("Models"), QStringLiteral(":/icons/models.svg"), mModelsPage);
  mDatasetPage = new DatasetPage(mSettings, this);
  addPage(QStringLiteral("dataset"), tr("Dataset"), QStringLiteral(":/icons/dataset.svg"), mDatasetPage);
  mTrainPage = new TrainPage(mLibrary, mSettings, this);
  addPage(QStringLiteral("train"), tr("Train"), QStringLiteral(":/icons/train.svg"), mTrainPage);
  mGeneratePage = new GeneratePage(mLibrary, mSettings, this);
  addPage(QStringLiteral("generate"), tr("Generate"), QStringLiteral(":/icons/generate.svg"), mGeneratePage);

  buildMenus();
  buildStatusBar();
  // The API server, when the settings turn it on, lists the library's folders.
  connect(mLibrary, &ModelLibrary::foldersChanged, this, [this](const QStringList& folders) {
    if (mApiServer) mApiServer->setModelFolders(folders);
  });
  applyApiServer();
  connect(mModelsPage, &ModelsPage::message, this, [this](const QString& text) { statusBar()->showMessage(text, 4000); });
  connect(mGeneratePage, &GeneratePage::message, this, [this](const QString& text) { statusBar()->showMessage(text, 4000); });
  connect(mDatasetPage, &DatasetPage::message, this, [this](const QString& text) { statusBar()->showMessage(text, 4000); });
  connect(mTrainPage, &TrainPage::message, this, [this](const QString& text) { statusBar()->showMessage(text, 4000); });
  connect(mTrainPage, &TrainPage::compareRequested, this, [this](const CheckpointComparison& comparison) {
    showPage(QStringLiteral("generate"));
    mGeneratePage->compareCheckpoints(comparison);
  });
  for (QAction* action : {mDatasetPage->openAction(), mDatasetPage->importAction()}) {
    connect(action, &QAction::triggered, this, [this] { showPage(QStringLiteral("dataset")); });
  }
  for (QAction* action : {mTrainPage->exportSessionAction(), mTrainPage->importSessionAction()}) {
    connect(action, &QAction::triggered, this, [this] { showPage(QStringLiteral("train")); });
  }
  connect(mLibrary, &ModelLibrary::activityChanged, this, &MainWindow::showActivity);
  connect(mGeneratePage, &GeneratePage::activityChanged, this, [this](const QString& text, int percent) {
    mJobActivity = text;
    mJobPercent = percent;
    updateActivity();
  });
  connect(mTrainPage, &TrainPage::activityChanged, this, [this](const QString& text, int percent) {
    mTrainActivity = text;
    mTrainPercent = percent;
    updateActivity();
  });
  for (auto signal : {&downloads::DownloadManager::added, &downloads::DownloadManager::removed,
                      &downloads::DownloadManager::changed}) {
    connect(mDownloads, signal, this, &MainWindow::updateActivity);
  }
  // The end of a download is news wherever the user is.
  connect(mDownloads, &downloads::DownloadManager::added, this, [this](downloads::FileDownload* d) {
    connect(d, &downloads::FileDownload::finished, this, [this, d] {
      if (d->state() == downloads::FileDownload::State::Finished) {
        statusBar()->showMessage(d->verified() ? tr("Downloaded %1 (verified)").arg(d->label())
                                               : tr("Downloaded %1").arg(d->label()),
                                 8000);
      } else if (d->state() == downloads::FileDownload::State::Failed) {
        // The reason is on the Models page (the status bar is too narrow for it beside the job area).
        statusBar()->showMessage(tr("Download of %1 failed").arg(d->label()), 12000);
      }
    });
  });
  connect(mDatasetPage, &DatasetPage::activityChanged, this, [this](const QString& text, int percent) {
    mDatasetActivity = text;
    mDatasetPercent = percent;
    updateActivity();
  });
  showActivity(mLibrary->activity(), mLibrary->activityPercent());
  // Downloads left running or queued when Kiln last closed (or was killed) carry on.
  mDownloads->restore();

  if (!restoreGeometry(mSettings->windowGeometry())) {
    const QRect screen = QGuiApplication::primaryScreen() ? QGuiApplication::primaryScreen()->availableGeometry()
                                                          : QRect(0, 0, 1280, 800);
    resize(std::min(1360, screen.width() * 9 / 10), std::min(860, screen.height() * 9 / 10));
  }
  restoreState(mSettings->windowState());
  showPage(mSettings->currentPage());
}

// The pages go first: they follow the library, which stops its workers when it goes, and the
// downloads, which go next while the window is still whole (their parts stay for a resume).
MainWindow::~MainWindow() {
  // Before the Generate page: the server's running job is stopped on the page's worker first.
  delete mApiServer;
  mApiServer = nullptr;
  delete mPages;
  delete mDownloads;
}

void MainWindow::addPage(const QString& id, const QString& title, const QString& icon, QWidget* page) {
  const int index = mPages->addWidget(page);
  auto* action = new QAction(title, mPageActions);
  action->setCheckable(true);
  action->setProperty(kPageId, id);
  action->setProperty(kIconPath, icon);
  action->setIcon(widgets::Theme::tinted(icon, palette().color(QPalette::WindowText)));
  action->setShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + index)));
  action->setToolTip(tr("%1 (%2)").arg(title, action->shortcut().toString(QKeySequence::NativeText)));
  connect(action, &QAction::triggered, this, [this, id] { showPage(id); });
  mNavigation->addAction(action);
}

QString MainWindow::currentPage() const {
  const QAction* checked = mPageActions->checkedAction();
  return checked ? checked->property(kPageId).toString() : QString();
}

void MainWindow::showPage(const QString& id) {
  const QList<QAction*> actions = mPageActions->actions();
  int index = 0;
  for (int i = 0; i < actions.size(); ++i) {
    if (actions[i]->property(kPageId).toString() == id) index = i;
  }
  mPages->setCurrentIndex(index);
  actions[index]->setChecked(true);
  mSettings->setCurrentPage(actions[index]->property(kPageId).toString());
  if (mShowDownloads) updateActivity();
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(mModelsPage->getModelsAction());
  file->addAction(mModelsPage->addFolderAction());
  file->addAction(mModelsPage->rescanAction());
  file->addSeparator();
  file->addAction(mDatasetPage->openAction());
  file->addAction(mDatasetPage->importAction());
  file->addSeparator();
  file->addAction(mTrainPage->exportSessionAction());
  file->addAction(mTrainPage->importSessionAction());
  file->addSeparator();
  QAction* api = file->addAction(tr("API &Server…"), this, &MainWindow::chooseApiServer);
  api->setObjectName(QStringLiteral("apiServerAction"));
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
  quit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));
  quit->setMenuRole(QAction::QuitRole);

  QMenu* view = menuBar()->addMenu(tr("&View"));
  view->addActions(mPageActions->actions());
  view->addSeparator();

  QMenu* appearance = view->addMenu(tr("&Appearance"));
  auto* appearanceGroup = new QActionGroup(appearance);
  const QString currentAppearance = mSettings->appearance();
  for (const auto& [id, label] : {std::pair{QStringLiteral("system"), tr("Follow &System")},
                                  std::pair{QStringLiteral("light"), tr("&Light")},
                                  std::pair{QStringLiteral("dark"), tr("&Dark")}}) {
    QAction* action = appearance->addAction(label);
    action->setCheckable(true);
    action->setChecked(id == currentAppearance);
    appearanceGroup->addAction(action);
    connect(action, &QAction::triggered, this, [this, id = id] { setAppearance(id); });
  }

  QMenu* language = view->addMenu(tr("&Language"));
  auto* languageGroup = new QActionGroup(language);
  const QString currentLanguage = mSettings->language();
  QAction* system = language->addAction(tr("System Language"));
  system->setCheckable(true);
  system->setChecked(currentLanguage.isEmpty());
  languageGroup->addAction(system);
  connect(system, &QAction::triggered, this, [this] { setLanguage({}); });
  language->addSeparator();
  for (const auto& [code, name] : Language::available()) {
    QAction* action = language->addAction(name);
    action->setCheckable(true);
    action->setChecked(code == currentLanguage);
    languageGroup->addAction(action);
    connect(action, &QAction::triggered, this, [this, code = code] { setLanguage(code); });
  }

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  QAction* about = help->addAction(tr("&About Kiln"), this, &MainWindow::showAbout);
  about->setMenuRole(QAction::AboutRole);
  QAction* aboutQt = help->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);
  aboutQt->setMenuRole(QAction::AboutQtRole);
}

void MainWindow::buildStatusBar() {
  mActivity = new QLabel(this);
  mActivity->setObjectName(QStringLiteral("activityLabel"));
  mProgress = new QProgressBar(this);
  mProgress->setObjectName(QStringLiteral("activityProgress"));
  mProgress->setMaximumWidth(160);
  mProgress->setMaximumHeight(fontMetrics().height());
  mProgress->setTextVisible(false);
  mCancelJob = new QToolButton(this);
  mCancelJob->setObjectName(QStringLiteral("cancelJobButton"));
  mCancelJob->setDefaultAction(mGeneratePage->cancelAction());
  mCancelJob->setToolButtonStyle(Qt::ToolButtonTextOnly);
  mCancelJob->setAutoRaise(true);
  mShowDownloads = new QToolButton(this);
  mShowDownloads->setObjectName(QStringLiteral("showDownloadsButton"));
  mShowDownloads->setText(tr("Show Downloads"));
  mShowDownloads->setToolButtonStyle(Qt::ToolButtonTextOnly);
  mShowDownloads->setAutoRaise(true);
  mShowDownloads->hide();
  connect(mShowDownloads, &QToolButton::clicked, this, [this] { showPage(QStringLiteral("models")); });
  statusBar()->addPermanentWidget(mActivity);
  statusBar()->addPermanentWidget(mProgress);
  statusBar()->addPermanentWidget(mCancelJob);
  statusBar()->addPermanentWidget(mShowDownloads);
  mApiStatus = new QLabel(this);
  mApiStatus->setObjectName(QStringLiteral("apiStatus"));
  mApiStatus->hide();
  statusBar()->addPermanentWidget(mApiStatus);
}

QString MainWindow::apiServerAddress() const {
  if (!mApiServer) return {};
  const ApiServerSettings s = mSettings->apiServer();
  QString host = s.host;
  if (host.contains(QLatin1Char(':')) && !host.startsWith(QLatin1Char('['))) host = QLatin1Char('[') + host + QLatin1Char(']');
  return QStringLiteral("http://%1:%2").arg(host).arg(mApiServer->port());
}

QString MainWindow::applyApiServer() {
  delete mApiServer;
  mApiServer = nullptr;
  mApiStatus->hide();
  const ApiServerSettings s = mSettings->apiServer();
  if (!s.enabled) return {};
  api::ApiOptions options;
  QString error;
  if (!api::setApiHost(options, s.host, &error) || !api::setApiCredentials(options, s.auth, &error)) {
    statusBar()->showMessage(tr("API server not started: %1").arg(error), 8000);
    return error;
  }
  api::setApiCorsOrigins(options, s.corsOrigins);
  options.port = static_cast<quint16>(s.port);
  options.modelFolders = mLibrary->folders();
  auto* server = new api::ApiServer(options, mGeneratePage->worker(), this);
  if (!server->start(&error)) {
    delete server;
    const QString why = tr("cannot listen on %1:%2: %3").arg(s.host).arg(s.port).arg(error);
    statusBar()->showMessage(tr("API server not started: %1").arg(why), 8000);
    mApiStatus->setText(tr("API: off"));
    mApiStatus->setToolTip(why);
    mApiStatus->show();
    return why;
  }
  mApiServer = server;
  mApiStatus->setText(tr("API: %1").arg(apiServerAddress()));
  mApiStatus->setToolTip(options.credentials.isEmpty() ? tr("AUTOMATIC1111's API, without a password")
                                                       : tr("AUTOMATIC1111's API, with a password"));
  mApiStatus->show();
  return {};
}

void MainWindow::chooseApiServer() {
  ApiServerDialog dialog(mSettings->apiServer(), this);
  if (dialog.exec() != QDialog::Accepted) return;
  if (dialog.settings() == mSettings->apiServer() && (mApiServer != nullptr) == dialog.settings().enabled) return;
  mSettings->setApiServer(dialog.settings());
  const QString problem = applyApiServer();
  if (!problem.isEmpty()) QMessageBox::warning(this, tr("API Server"), tr("The API server could not start: %1").arg(problem));
}

QString MainWindow::downloadActivity(int* percent) const {
  using downloads::FileDownload;
  const QList<FileDownload*> all = mDownloads->downloads();
  const FileDownload* shown = nullptr;
  for (const FileDownload* d : all) {
    if (d->isActive()) {
      shown = d;
      break;
    }
  }
  const int pending = mDownloads->pendingCount();
  if (!shown) {
    if (percent) *percent = -1;
    return pending > 0 ? tr("%n download(s) queued", nullptr, pending) : QString();
  }
  const int more = pending - 1;
  const int value = shown->total() > 0 ? int(100 * shown->received() / shown->total()) : -1;
  if (percent) *percent = value;
  QString text = value >= 0 ? tr("Downloading %1: %2%").arg(shown->label()).arg(value)
                            : tr("Downloading %1").arg(shown->label());
  if (more > 0) text += QLatin1Char(' ') + tr("(%n more queued)", nullptr, more);
  return text;
}

void MainWindow::showActivity(const QString& text, int percent) {
  mLibraryActivity = text;
  mLibraryPercent = percent;
  updateActivity();
}

void MainWindow::updateActivity() {
  // A generation first, then a training run (its button is Stop & Save), then the library.
  const bool generating = !mJobActivity.isEmpty();
  const bool training = !generating && !mTrainActivity.isEmpty();
  const bool job = generating || training;
  int downloadPercent = -1;
  const QString download = job ? QString() : downloadActivity(&downloadPercent);
  const bool downloading = !download.isEmpty();
  // The Dataset page's run (its own Cancel is on the page) before downloads and the library.
  const bool dataset = !job && !mDatasetActivity.isEmpty();
  const QString text = generating    ? mJobActivity
                       : training    ? mTrainActivity
                       : dataset     ? mDatasetActivity
                       : downloading ? download
                                     : mLibraryActivity;
  const int percent = generating    ? mJobPercent
                      : training    ? mTrainPercent
                      : dataset     ? mDatasetPercent
                      : downloading ? downloadPercent
                                    : mLibraryPercent;
  QAction* cancel = training ? mTrainPage->stopAction() : mGeneratePage->cancelAction();
  if (mCancelJob->defaultAction() != cancel) mCancelJob->setDefaultAction(cancel);
  mActivity->setText(text);
  mActivity->setVisible(!text.isEmpty());
  mProgress->setVisible(!text.isEmpty());
  mCancelJob->setVisible(job);
  mShowDownloads->setVisible(downloading && !dataset && currentPage() != QLatin1String("models"));
  if (percent < 0) {
    mProgress->setRange(0, 0);
  } else {
    mProgress->setRange(0, 100);
    mProgress->setValue(percent);
  }
}

void MainWindow::showAbout() {
  QMessageBox box(this);
  box.setWindowTitle(tr("About Kiln"));
  box.setIconPixmap(windowIcon().pixmap(QSize(64, 64), devicePixelRatio()));
  box.setTextFormat(Qt::RichText);
  box.setText(tr("<h3>Kiln %1</h3><p>A desktop studio for personal Stable Diffusion models: prepare a dataset, "
                 "fine-tune on your own GPU and generate.</p>")
                  .arg(QCoreApplication::applicationVersion()));
  // What the engine runs on: LibTorch, CUDA/cuDNN, the CPU kernels and the GPUs (or why none).
  const QString runtime = QString::fromStdString(describe(runtime_info())).trimmed().toHtmlEscaped();
  box.setInformativeText(tr("<p>Free software under the GNU General Public License, version 3 or later. "
                            "Built with Qt %1.</p>")
                             .arg(QString::fromLatin1(qVersion())) +
                         QStringLiteral("<p>%1</p>").arg(QString(runtime).replace(QLatin1Char('\n'),
                                                                                  QStringLiteral("<br>"))));
  box.exec();
}

void MainWindow::setAppearance(const QString& appearance) {
  mSettings->setAppearance(appearance);
  widgets::Theme::apply(widgets::Theme::schemeFromString(appearance));
}

void MainWindow::setLanguage(const QString& code) {
  if (code == mSettings->language()) return;
  mSettings->setLanguage(code);
  statusBar()->showMessage(tr("Kiln will use the new language the next time it starts."), 8000);
}

void MainWindow::changeEvent(QEvent* event) {
  QMainWindow::changeEvent(event);
  if (event->type() == QEvent::PaletteChange) retintIcons();
}

void MainWindow::retintIcons() {
  const QColor color = palette().color(QPalette::WindowText);
  for (QAction* action : mPageActions->actions()) {
    action->setIcon(widgets::Theme::tinted(action->property(kIconPath).toString(), color));
  }
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (mTrainPage->isRunning()) {
    // Quitting saves a checkpoint first (the page stops the run and waits); say so, and let the
    // person keep training instead.
    QMessageBox box(QMessageBox::Question, tr("Training is running"),
                    tr("Quit Kiln? The training saves a checkpoint at the current step first; Resume continues "
                       "exactly from there."),
                    QMessageBox::NoButton, this);
    QPushButton* quit = box.addButton(tr("Save and Quit"), QMessageBox::AcceptRole);
    box.addButton(tr("Keep Training"), QMessageBox::RejectRole);
    box.setDefaultButton(quit);
    box.exec();
    if (box.clickedButton() != quit) {
      event->ignore();
      return;
    }
  }
  mSettings->setWindowGeometry(saveGeometry());
  mSettings->setWindowState(saveState());
  QMainWindow::closeEvent(event);
}

}  // namespace kiln::app
