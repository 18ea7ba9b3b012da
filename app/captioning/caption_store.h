#pragma once
// Where each caption came from, kept in the dataset's own metadata file
// (`<dataset>/.kiln-captions.json`, written atomically): per image (path relative to the dataset),
// the status (auto, edited, reviewed, failed), the model, the endpoint's host, the prompt preset,
// finish reason, token usage, flags, the CLIP token count, the error of a failed request, and the
// sha256 of the caption as written. A caption whose text no longer has that hash was edited by
// the person (in Kiln or anywhere else) and counts as edited.

#include <QHash>
#include <QString>
#include <QStringList>

#include <optional>

namespace kiln::captioning {

struct CaptionRecord {
  QString status;          // auto | edited | reviewed | failed
  QString model;
  QString endpointHost;
  QString prompt;          // preset id ("subject", ...) or "custom"
  QString finishReason;
  int promptTokens = -1;
  int completionTokens = -1;
  int clipTokens = -1;
  QStringList flags;       // caption_text.h flagNames
  QString captionSha256;   // of the text written (auto), empty otherwise
  QString error;           // failed
  QString updated;         // ISO 8601 UTC
};

class CaptionStore {
 public:
  static QString fileFor(const QString& datasetDir);
  // Reads the file if there is one; a broken file is kept aside (renamed .broken) and starts empty.
  explicit CaptionStore(QString datasetDir);

  QString datasetDir() const { return mDir; }
  QString key(const QString& imagePath) const;  // relative to the dataset
  std::optional<CaptionRecord> record(const QString& imagePath) const;
  void set(const QString& imagePath, const CaptionRecord& record);
  void remove(const QString& imagePath);
  // "" (no record), "auto", "edited", "reviewed" or "failed", with an auto caption whose text
  // changed on disk counted as edited. `captionText` is the caption beside the image now.
  QString status(const QString& imagePath, const QString& captionText) const;
  void markReviewed(const QString& imagePath);
  void markEdited(const QString& imagePath);
  // Writes the file atomically; false with `error` set when it cannot.
  bool save(QString* error = nullptr) const;

  static QString sha256(const QString& text);

 private:
  QString mDir;
  QHash<QString, CaptionRecord> mRecords;
};

}  // namespace kiln::captioning
