#pragma once
// A list of folders with Add… and Remove buttons. Folders can also be dropped onto the list
// from a file manager; Delete removes the selected ones. Folders marked unavailable show a
// warning icon and say why in their tooltip.

#include <QString>
#include <QStringList>
#include <QWidget>

class QListWidget;
class QPushButton;

namespace kiln::widgets {

class FolderListEditor : public QWidget {
  Q_OBJECT
  Q_PROPERTY(QStringList folders READ folders WRITE setFolders NOTIFY foldersChanged)

 public:
  explicit FolderListEditor(QWidget* parent = nullptr);

  QStringList folders() const;
  // Shows `folders` without emitting foldersChanged (the caller already knows them).
  void setFolders(const QStringList& folders);
  void setUnavailableFolders(const QStringList& folders);
  // Title of the folder chooser that Add… opens.
  void setDialogTitle(const QString& title);

  QListWidget* listWidget() const { return mList; }

 public Q_SLOTS:
  // Opens the folder chooser.
  void chooseFolder();
  void addFolder(const QString& folder);
  void removeSelected();

 Q_SIGNALS:
  // The user added or removed folders.
  void foldersChanged(const QStringList& folders);

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void rebuild(const QStringList& folders);
  void updateButtons();

  QListWidget* mList;
  QPushButton* mAdd;
  QPushButton* mRemove;
  QString mDialogTitle;
  QStringList mUnavailable;
};

}  // namespace kiln::widgets
