#pragma once
// Kiln's main window: a navigation bar with one entry per page (only pages that do
// something), the pages, menus, and a status bar that shows what the background jobs do.

#include <QMainWindow>

class QActionGroup;
class QLabel;
class QProgressBar;
class QStackedWidget;
class QToolBar;
class QToolButton;

namespace kiln::api {
class ApiServer;
}  // namespace kiln::api

namespace kiln::downloads {
class Catalog;
class DownloadManager;
}  // namespace kiln::downloads

namespace kiln::app {

class AppSettings;
class DatasetPage;
class GeneratePage;
class ModelLibrary;
class ModelsPage;
class TrainPage;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  // Downloads kept in <AppDataLocation>/downloads.json, the built-in catalog.
  explicit MainWindow(AppSettings* settings, QWidget* parent = nullptr);
  // Downloads kept in `downloadsStateFile` (tests: their own), offering `catalog` (not owned; it
  // outlives the window).
  MainWindow(AppSettings* settings, const QString& downloadsStateFile, const downloads::Catalog* catalog,
             QWidget* parent = nullptr);
  ~MainWindow() override;

  ModelLibrary* library() const { return mLibrary; }
  ModelsPage* modelsPage() const { return mModelsPage; }
  downloads::DownloadManager* downloadManager() const { return mDownloads; }
  // "Downloading Stable Diffusion 1.5: 43% (2 more queued)"; empty when nothing is downloading.
  QString downloadActivity(int* percent = nullptr) const;
  GeneratePage* generatePage() const { return mGeneratePage; }
  DatasetPage* datasetPage() const { return mDatasetPage; }
  TrainPage* trainPage() const { return mTrainPage; }
  QString currentPage() const;
  void showPage(const QString& id);
  // The AUTOMATIC1111 API server of the settings (File > API Server…): started, restarted with
  // new settings or stopped; it runs on the Generate page's engine worker. Returns "" or why it
  // could not start (also shown in the status bar).
  QString applyApiServer();
  void chooseApiServer();
  api::ApiServer* apiServer() const { return mApiServer; }
  // "http://127.0.0.1:7860" while the server runs, else "".
  QString apiServerAddress() const;

 protected:
  void closeEvent(QCloseEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  void addPage(const QString& id, const QString& title, const QString& icon, QWidget* page);
  void buildMenus();
  void buildStatusBar();
  void showActivity(const QString& text, int percent);
  // The library's and the engine's activities share the status bar; the engine's wins.
  void updateActivity();
  void showAbout();
  void setAppearance(const QString& appearance);
  void setLanguage(const QString& code);
  void retintIcons();

  AppSettings* mSettings;
  ModelLibrary* mLibrary;
  downloads::DownloadManager* mDownloads;
  QStackedWidget* mPages;
  QToolBar* mNavigation;
  QActionGroup* mPageActions;
  ModelsPage* mModelsPage;
  GeneratePage* mGeneratePage;
  DatasetPage* mDatasetPage;
  TrainPage* mTrainPage;
  api::ApiServer* mApiServer = nullptr;
  QLabel* mApiStatus = nullptr;
  QLabel* mActivity;
  QProgressBar* mProgress;
  QToolButton* mCancelJob;
  QToolButton* mShowDownloads = nullptr;
  QString mLibraryActivity;
  int mLibraryPercent = -1;
  QString mJobActivity;  // the Generate page's job
  int mJobPercent = -1;
  QString mTrainActivity;  // the Train page's run
  int mTrainPercent = -1;
  QString mDatasetActivity;  // the Dataset page's import or captioning run
  int mDatasetPercent = -1;
};

}  // namespace kiln::app
