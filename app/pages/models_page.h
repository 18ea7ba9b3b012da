#pragma once
// The Models page: the models found in the user's folders, what Kiln knows of each, and the
// folders themselves. Without folders it shows how to add one.

#include <QString>
#include <QWidget>

class QAction;
class QLabel;
class QLineEdit;
class QModelIndex;
class QSortFilterProxyModel;
class QSplitter;
class QStackedWidget;
class QTableView;
class QToolButton;

namespace kiln::downloads {
class Catalog;
class DownloadManager;
class FileDownload;
struct Licence;
struct SourceSpec;
}  // namespace kiln::downloads

namespace kiln::widgets {
class EmptyState;
class FolderListEditor;
}  // namespace kiln::widgets

namespace kiln::app {

class AppSettings;
class CatalogDialog;
class DownloadsPanel;
class ModelDetailsView;
class ModelLibrary;
class ModelListModel;

class ModelsPage : public QWidget {
  Q_OBJECT

 public:
  ModelsPage(ModelLibrary* library, AppSettings* settings, QWidget* parent = nullptr);
  ~ModelsPage() override;

  QAction* addFolderAction() const { return mAddFolder; }
  QAction* rescanAction() const { return mRescan; }
  // "Get Models…": the catalog dialog (disabled until setDownloads()).
  QAction* getModelsAction() const { return mGetModels; }

  // The downloads (owned by the main window) and the catalog offered; shows the downloads panel
  // and the empty states' "Get Stable Diffusion 1.5" button.
  void setDownloads(downloads::DownloadManager* manager, const downloads::Catalog* catalog);
  downloads::DownloadManager* downloadManager() const { return mDownloads; }
  DownloadsPanel* downloadsPanel() const { return mDownloadsPanel; }
  // The catalog dialog once opened, nullptr before.
  CatalogDialog* catalogDialog() const { return mCatalogDialog; }

  // Where downloads go: the library's first model folder. Without one and with `create`,
  // <AppDataLocation>/models is made and added to the library (the status bar says so).
  QString downloadFolder(bool create);
  // Queues the catalog entry `id` into the download folder (its subfolder for VAE, ControlNet and
  // preprocessor weights), after the licence question if its licence was not accepted yet.
  // nullptr when the user declined or the entry is unknown.
  downloads::FileDownload* downloadEntry(const QString& id);
  // Queues a file the user linked to (no licence question: the user chose the source).
  downloads::FileDownload* downloadSource(const downloads::SourceSpec& source);

  QTableView* table() const { return mTable; }
  ModelListModel* listModel() const { return mModel; }
  QSortFilterProxyModel* proxyModel() const { return mProxy; }
  ModelDetailsView* details() const { return mDetails; }
  // The path of the selected model, empty when none.
  QString selectedPath() const;
  void selectPath(const QString& path);
  void setFilterText(const QString& text);

 public Q_SLOTS:
  // Asks for a folder and adds it.
  void chooseFolder();
  // Opens the catalog dialog.
  void showCatalog();

 Q_SIGNALS:
  // A short note for the status bar ("Copied the path").
  void message(const QString& text);

 protected:
  void changeEvent(QEvent* event) override;

 private:
  QWidget* buildHeader();
  void updateIcons();
  QWidget* buildBody();
  void updateView();
  void updateSummary();
  void updateSelection();
  void updateActions();
  void onEntryChanged(const QString& path);
  void showContextMenu(const QPoint& pos);
  void openContainingFolder();
  void copyToClipboard(const QString& text, const QString& what);
  void saveViewState();
  bool confirmLicence(const downloads::Licence& licence, const QString& model);
  QString getStarterText() const;

  ModelLibrary* mLibrary;
  AppSettings* mSettings;
  ModelListModel* mModel;
  QSortFilterProxyModel* mProxy;

  QAction* mAddFolder;
  QAction* mRescan;
  QAction* mGetModels;
  QAction* mOpenFolder;
  QAction* mCopyPath;
  QAction* mCopyHash;
  QAction* mCopySha256;
  QAction* mFind;

  QLabel* mSummary;
  QLineEdit* mFilter;
  QToolButton* mRescanButton;
  QAction* mFilterIcon;
  QStackedWidget* mPageStack;  // empty state | body
  widgets::EmptyState* mNoFolders;
  widgets::FolderListEditor* mFolders;
  QSplitter* mHorizontal;
  QSplitter* mVertical;
  QStackedWidget* mTableStack;  // table | no models / no match
  widgets::EmptyState* mNoModels;
  QTableView* mTable;
  ModelDetailsView* mDetails;
  QString mWantedSelection;  // restored once the model appears
  downloads::DownloadManager* mDownloads = nullptr;
  const downloads::Catalog* mCatalog = nullptr;
  DownloadsPanel* mDownloadsPanel = nullptr;
  CatalogDialog* mCatalogDialog = nullptr;
};

}  // namespace kiln::app
