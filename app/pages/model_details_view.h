#pragma once
// Everything known of one model: family and the evidence for it, key layout, format,
// prediction type and where it came from, size, parameters and precision, hashes,
// components, metadata and warnings; or, for a file Kiln cannot read, why.

#include <QList>
#include <QString>
#include <QWidget>

#include "services/model_entry.h"

class QAction;
class QFormLayout;
class QHBoxLayout;
class QLabel;
class QPlainTextEdit;
class QStackedWidget;
class QTabWidget;
class QTreeWidget;

namespace kiln::widgets {
class ElidedLabel;
class MessageBanner;
}  // namespace kiln::widgets

namespace kiln::app {

class ModelDetailsView : public QWidget {
  Q_OBJECT

 public:
  explicit ModelDetailsView(QWidget* parent = nullptr);

  // Shows `entry`, or a hint to select a model when null.
  void setEntry(const ModelEntry* entry);
  // A button in the header row for `action` (open folder, copy hash, ...), with `more` in a
  // drop-down beside it.
  void addHeaderAction(QAction* action, const QList<QAction*>& more = {});

  QString shownPath() const { return mPath; }
  widgets::MessageBanner* errorBanner() const { return mError; }

 private:
  QWidget* buildOverview();
  QWidget* buildTabs();
  QLabel* addRow(const QString& label);
  void addRow(const QString& label, QWidget* value);
  void fillFacts(const ModelEntry& entry);
  void fillTabs(const ModelSummary& summary);

  QStackedWidget* mStack;
  widgets::ElidedLabel* mName;
  widgets::ElidedLabel* mLocation;
  QHBoxLayout* mActions;
  widgets::MessageBanner* mError;
  QLabel* mProgress;
  QWidget* mFactsBox;
  QFormLayout* mFacts;
  QLabel* mFamily;
  QLabel* mFormat;
  QLabel* mLayout;
  QLabel* mPrediction;
  QLabel* mSize;
  QLabel* mParameters;
  QLabel* mPrecision;
  QLabel* mShortHash;
  QLabel* mSha256;
  QLabel* mHashedFile;
  QTabWidget* mTabs;
  QTreeWidget* mComponents;
  QPlainTextEdit* mEvidence;
  QTreeWidget* mMetadata;
  QPlainTextEdit* mWarnings;

  QString mPath;
  bool mTabsFilled = false;
};

}  // namespace kiln::app
