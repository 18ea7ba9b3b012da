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

namespace kiln::widgets {
class EmptyState;
class FolderListEditor;
}  // namespace kiln::widgets

namespace kiln::app {

class AppSettings;
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

  ModelLibrary* mLibrary;
  AppSettings* mSettings;
  ModelListModel* mModel;
  QSortFilterProxyModel* mProxy;

  QAction* mAddFolder;
  QAction* mRescan;
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
};

}  // namespace kiln::app
