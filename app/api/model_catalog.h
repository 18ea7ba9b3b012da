#pragma once
// The models the API offers: the `--models` folders searched (services/folder_scanner) and each
// model's family read from its headers (convert::inspect_model, no hashing), kept by path, size
// and modification time so a refresh only reads new or changed files. Generation checkpoints,
// LoRAs and ControlNets are listed apart; the sha256 of a checkpoint is filled in when it is
// first used (A1111 also shows a title without hash until then).

#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace kiln::api {

struct CatalogModel {
  QString path;       // absolute file or diffusers folder
  QString fileName;   // "name.safetensors", or the folder's name
  QString relative;   // to the folder it was found in ("sub/name.safetensors")
  QString modelName;  // A1111's model_name: the relative path without extension
  QString family;     // convert::to_string(ModelFamily): "sd1", "sdxl", "lora_sd1", ...
  QString sha256;     // empty until hashed
  qint64 size = 0;
  qint64 mtimeMs = 0;

  // A1111's title: "sub/name.safetensors [0123456789]" (without the hash until it is known).
  QString title() const;
  QString shortHash() const { return sha256.left(10); }
};

class ModelCatalog {
 public:
  explicit ModelCatalog(QStringList folders);

  const QStringList& folders() const { return mFolders; }
  // Searches the folders again; models whose files did not change keep what was read of them.
  void refresh();

  QList<CatalogModel> checkpoints() const { return byKind(Kind::Checkpoint); }
  QList<CatalogModel> loras() const { return byKind(Kind::LoRA); }
  QList<CatalogModel> controlNets() const { return byKind(Kind::ControlNet); }

  // A checkpoint by any name a client uses: its title (with or without hash), model_name,
  // file name, relative or absolute path, short hash or sha256. nullopt when none fits.
  std::optional<CatalogModel> findCheckpoint(const QString& name) const;
  // A LoRA by its file name without extension (what <lora:NAME:w> says) or relative name.
  std::optional<CatalogModel> findLoRA(const QString& name) const;
  // A ControlNet by sd-webui-controlnet's "name [hash]", name or file name.
  std::optional<CatalogModel> findControlNet(const QString& name) const;

  void setSha256(const QString& path, const QString& sha256);

 private:
  enum class Kind { Checkpoint, LoRA, ControlNet, Other };
  struct Entry {
    CatalogModel model;
    Kind kind = Kind::Other;
  };
  QList<CatalogModel> byKind(Kind kind) const;

  QStringList mFolders;
  QList<Entry> mEntries;  // in the order found (sorted by path)
};

}  // namespace kiln::api
