#pragma once
// A training session as one .zip, to carry it to another machine and back (kiln-cli session
// export/import, the Train page's File > Export Session… / Import Session…).
//
// The archive holds settings.json, the session's copy of its images with their exact prompts
// (dataset/: the snapshot the first run made, or made from the image folder now when the session
// has not run yet), metrics.jsonl, log.txt, samples/, class_images/ (prior preservation), and by
// choice the checkpoints, plus manifest.json: the sha256 and size of every other entry and the
// base model's name, size and hash. Contents:
//   Session          no weights: train it elsewhere from the start (a laptop's dataset to a GPU box)
//   WithCheckpoints  everything in checkpoints/: latest.safetensors (weights, optimizer state,
//                    generator state: an imported session resumes bit for bit) and the kept files
//   WeightsOnly      the kept checkpoint files only (what a generator loads and Compare
//                    Checkpoints shows; no optimizer state, so it does not resume): the result
//                    brought back, a fraction of the size
// Weights and images are stored, everything else deflated. The zip appears atomically (written
// beside it under a hidden name, renamed when complete); a failed or cancelled export leaves
// nothing.
//
// The base model's hash: a single file's sha256 (what the model library and AUTOMATIC1111 show);
// a diffusers folder's is the sha256 of its `sha256sum`-style listing of the weight files
// (*.safetensors *.bin *.ckpt *.pt *.pth, sorted by their '/'-separated path inside the folder,
// one "<sha256>  <path>\n" line each), so configs and the folder's name and place do not matter.
//
// Import checks the whole archive before writing anything (zip_safety: names, links,
// duplicates, sizes, ratio; then the session layout and the manifest: no entry missing or extra,
// sizes as declared), finds the base model by its hash (the candidates the caller passes first,
// then the path in settings.json), and refuses when it is not found, naming the model and its
// hash: a session without its base model cannot resume, so none is half-imported. Entries are
// extracted into a hidden staging folder beside DIR, each one's sha256 compared with the
// manifest as it inflates; settings.json is rewritten for this machine (the base model found,
// `images` = the session's own dataset/, class_images = the session's own); then the folder is
// renamed to DIR. A refused, failed or cancelled import leaves nothing behind.

#include <QString>
#include <QStringList>

#include <functional>
#include <stop_token>

#include "services/zip_safety.h"

namespace kiln::app {

enum class SessionArchiveContents { Session, WithCheckpoints, WeightsOnly };
QString toString(SessionArchiveContents contents);  // "session", "with-checkpoints", "weights-only"

struct SessionArchiveProgress {
  QString what;  // "hashing the base model", "dataset/000001-a.jpg"
  qint64 done = 0;
  qint64 total = 0;  // bytes
};
using SessionArchiveProgressFn = std::function<void(const SessionArchiveProgress&)>;

struct SessionExportOptions {
  SessionArchiveContents contents = SessionArchiveContents::Session;
  bool overwrite = false;
};

struct SessionExportResult {
  bool cancelled = false;
  QString zipPath;
  int files = 0;               // entries besides manifest.json
  qint64 bytes = 0;            // the zip's size
  qint64 checkpointStep = -1;  // the checkpoint's global step (WithCheckpoints), -1 when none
  QString baseModelSha256;
  QStringList notes;  // what the user should know ("the session has no checkpoint yet")
};

struct SessionImportOptions {
  // Model files and folders to find the base model in (folders are searched to a few levels),
  // tried before the path the session's settings name.
  QStringList models;
  // The bundled CLIP vocabulary here, for a single-file base whose tokenizer folder was elsewhere.
  QString tokenizerDir;
  ZipLimits limits = defaultLimits();
  static ZipLimits defaultLimits();  // 64 GiB an entry, 256 GiB in all, 200000 entries, ratio 100
};

struct SessionImportResult {
  bool cancelled = false;
  QString sessionDir;
  QString baseModel;           // where the base model was found
  qint64 checkpointStep = -1;  // the global step it resumes from, -1 without a checkpoint
  int files = 0;
  QStringList notes;
};

class SessionArchive {
 public:
  // Throws InvalidRequestError (not a session, an existing zip without overwrite, WeightsOnly
  // without kept checkpoints, the base model not here to hash), FileError / FormatError.
  static SessionExportResult write(const QString& sessionDir, const QString& zipPath,
                                   const SessionExportOptions& options, const SessionArchiveProgressFn& progress = {},
                                   std::stop_token stop = {});

  // Throws InvalidRequestError (DIR exists and is not empty, the base model is not found, not
  // enough disk space), FormatError (a refused or damaged archive, naming the entry), FileError.
  static SessionImportResult read(const QString& zipPath, const QString& destDir, const SessionImportOptions& options,
                                  const SessionArchiveProgressFn& progress = {}, std::stop_token stop = {});

  // The base model hash described above (lowercase hex); empty when stopped. Throws FileError.
  // Each file's sha256 goes through the hash cache (io::sha256_file_cached), so an unchanged
  // model is read once.
  static QString modelHash(const QString& model, std::stop_token stop = {},
                           const std::function<void(qint64 done, qint64 total)>& progress = {});
  // The bytes modelHash reads: a file's size, a folder's weight files together.
  static qint64 modelBytes(const QString& model);
};

}  // namespace kiln::app
