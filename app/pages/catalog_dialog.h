#pragma once
// "Get Models": Kiln's catalog filtered by family (name, family, kind, size, licence, whether it is
// installed), the selected entry's description, licence and where its size and hash come from, a
// Download button, and a box for a Hugging Face or Civitai link, hf:…, civitai:… or a URL.
// The dialog only chooses; the Models page asks for the licence and queues the download.

#include <QDialog>
#include <QString>

#include "downloads/source_spec.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableWidget;

namespace kiln::downloads {
class Catalog;
struct CatalogEntry;
class DownloadManager;
}  // namespace kiln::downloads

namespace kiln::app {

class ModelLibrary;

class CatalogDialog : public QDialog {
  Q_OBJECT

 public:
  enum Column { Name, Family, Kind, Size, Licence, Installed, ColumnCount };

  CatalogDialog(const downloads::Catalog* catalog, downloads::DownloadManager* manager, ModelLibrary* library,
                QWidget* parent = nullptr);
  ~CatalogDialog() override;

  // The models folder downloads go to (empty: none yet; the first download creates one).
  void setDestination(const QString& folder, const QString& note);
  QString destination() const { return mDestination; }

  // "all", "sd1", "sd2", "sdxl" or "annotator".
  void setFamilyFilter(const QString& key);
  void selectEntry(const QString& id);
  QString selectedId() const;
  // The file is in the destination, or the library holds a model with the entry's sha256.
  bool isInstalled(const downloads::CatalogEntry& entry) const;
  // A download of the entry is queued, running or paused.
  bool isQueued(const downloads::CatalogEntry& entry) const;
  QTableWidget* table() const { return mTable; }
  QPushButton* downloadButton() const { return mDownload; }
  QLineEdit* linkEdit() const { return mLink; }
  QPushButton* linkButton() const { return mLinkDownload; }
  QLabel* linkError() const { return mLinkError; }

  static QString familyLabel(const QString& family);
  static QString kindLabel(const QString& kind);

 public Q_SLOTS:
  void refresh();

 Q_SIGNALS:
  void entryChosen(const QString& id);
  void sourceChosen(const kiln::downloads::SourceSpec& source);

 private:
  void fill();
  void applyFilter();
  void updateSelection();
  void downloadLink();
  const downloads::CatalogEntry* entryAt(int row) const;

  const downloads::Catalog* mCatalog;
  downloads::DownloadManager* mManager;
  ModelLibrary* mLibrary;
  QString mDestination;
  QComboBox* mFamily;
  QLabel* mDestinationLabel;
  QTableWidget* mTable;
  QLabel* mDetails;
  QPushButton* mDownload;
  QLineEdit* mLink;
  QPushButton* mLinkDownload;
  QLabel* mLinkError;
};

}  // namespace kiln::app
