// The API's read-only listings and settings (A1111's /sdapi/v1 GET endpoints, /options and
// /png-info, ControlNet's /controlnet/model_list and /module_list): answered on the GUI thread
// from the catalog and the options, no job queued.
#include <QBuffer>
#include <QFile>
#include <QFileInfo>
#include <QImageReader>
#include <QJsonArray>

#include "api/api_request.h"
#include "api/api_server.h"
#include "api/api_server_helpers.h"
#include "base/error.h"
#include "base/runtime_info.h"
#include "bridge/generation_parameters.h"
#include "control/preprocessor.h"
#include "pipelines/embeddings.h"

namespace kiln::api {

ApiServer::Reply ApiServer::controlNetModels() const {
  QJsonArray names;
  for (const CatalogModel& m : mCatalog.controlNets())
    names.append(QFileInfo(m.fileName).completeBaseName() + QStringLiteral(" [") + bridge::legacyModelHash(m.path) +
                 QLatin1Char(']'));
  return json(QJsonObject{{QStringLiteral("model_list"), names}});
}

ApiServer::Reply ApiServer::controlNetModules() const {
  QJsonArray names;
  QJsonObject details;
  const auto dirs = annotatorDirs(mOptions.modelFolders);
  for (const auto& p : control::preprocessors()) {
    const QString name = QString::fromStdString(p->name);
    names.append(name);
    QJsonArray sliders;
    if (p->takes_resolution)
      sliders.append(QJsonObject{{QStringLiteral("name"), QStringLiteral("Preprocessor Resolution")},
                                 {QStringLiteral("value"), p->default_resolution},
                                 {QStringLiteral("min"), 64},
                                 {QStringLiteral("max"), 2048},
                                 {QStringLiteral("step"), 8}});
    for (const control::PreprocessorParam& param : p->params)
      sliders.append(QJsonObject{{QStringLiteral("name"), QString::fromStdString(param.label)},
                                 {QStringLiteral("value"), param.default_value},
                                 {QStringLiteral("min"), param.minimum},
                                 {QStringLiteral("max"), param.maximum},
                                 {QStringLiteral("step"), param.step}});
    bool available = true;
    try {
      control::find_preprocessor_weights(*p, dirs);
    } catch (const kiln::Error&) {
      available = false;  // its weights are in none of the model folders
    }
    details.insert(name, QJsonObject{{QStringLiteral("model_free"), p->name == "none" || p->name == "invert"},
                                     {QStringLiteral("sliders"), sliders},
                                     {QStringLiteral("available"), available && !p->takes_mask}});
  }
  return json(QJsonObject{{QStringLiteral("module_list"), names}, {QStringLiteral("module_detail"), details}});
}

ApiServer::Reply ApiServer::optionsReply() const {
  const auto model = mCatalog.findCheckpoint(mModelPath);
  return json(QJsonObject{
      {QStringLiteral("sd_model_checkpoint"), model ? QJsonValue(model->title()) : QJsonValue(QJsonValue::Null)},
      {QStringLiteral("sd_checkpoint_hash"), model ? orNull(model->sha256) : QJsonValue(QJsonValue::Null)},
      {QStringLiteral("CLIP_stop_at_last_layers"), mClipSkip},
      {QStringLiteral("sd_vae"), QStringLiteral("Automatic")},
      {QStringLiteral("samples_format"), QStringLiteral("png")},
      {QStringLiteral("samples_save"), false},
      {QStringLiteral("grid_save"), false},
      {QStringLiteral("enable_pnginfo"), true},
      {QStringLiteral("live_previews_enable"), mLivePreviews},
      {QStringLiteral("show_progress_every_n_steps"), 1},
      {QStringLiteral("live_preview_content"), QStringLiteral("Prompt")},
      {QStringLiteral("show_progress_type"), QStringLiteral("Approx cheap")},
      {QStringLiteral("eta_noise_seed_delta"), 0},
      {QStringLiteral("sd_checkpoints_limit"), 1},
      {QStringLiteral("control_net_unit_count"), 3},
  });
}

ApiServer::Reply ApiServer::setOptions(const QJsonObject& body) {
  // Known keys first, all checked before any is applied; every other key is accepted and ignored
  // (nothing a client sends here can change where files are written).
  std::optional<CatalogModel> model;
  // Clients often post back what GET gave them: a null or empty model means no change.
  if (!body.value(QLatin1String("sd_model_checkpoint")).toString().trimmed().isEmpty()) {
    const QString name = body.value(QLatin1String("sd_model_checkpoint")).toString();
    model = mCatalog.findCheckpoint(name);
    if (!model) {
      mCatalog.refresh();
      model = mCatalog.findCheckpoint(name);
    }
    if (!model)
      return error(404, QStringLiteral("model '%1' not found (GET /sdapi/v1/sd-models lists them)").arg(name));
  }
  std::optional<int> clipSkip;
  if (body.value(QLatin1String("CLIP_stop_at_last_layers")).isDouble()) {
    const double v = body.value(QLatin1String("CLIP_stop_at_last_layers")).toDouble(-1);
    if (v < 1 || v > 12) return error(422, QStringLiteral("CLIP_stop_at_last_layers: expected 1..12"));
    clipSkip = static_cast<int>(v);
  }
  if (model) mModelPath = model->path;
  if (clipSkip) mClipSkip = *clipSkip;
  if (body.value(QLatin1String("live_previews_enable")).isBool())
    mLivePreviews = body.value(QLatin1String("live_previews_enable")).toBool();
  return json(QJsonObject());
}

ApiServer::Reply ApiServer::sdModels() const {
  QJsonArray list;
  for (const CatalogModel& m : mCatalog.checkpoints())
    list.append(QJsonObject{{QStringLiteral("title"), m.title()},
                            {QStringLiteral("model_name"), m.modelName},
                            {QStringLiteral("hash"), orNull(m.shortHash())},
                            {QStringLiteral("sha256"), orNull(m.sha256)},
                            {QStringLiteral("filename"), m.path},
                            {QStringLiteral("config"), QJsonValue::Null}});
  return json(list);
}

ApiServer::Reply ApiServer::loras() const {
  QJsonArray list;
  for (const CatalogModel& m : mCatalog.loras()) {
    const QString name = QFileInfo(m.fileName).completeBaseName();
    list.append(QJsonObject{{QStringLiteral("name"), name},
                            {QStringLiteral("alias"), name},
                            {QStringLiteral("path"), m.path},
                            {QStringLiteral("metadata"), QJsonObject()}});
  }
  return json(list);
}

ApiServer::Reply ApiServer::pngInfo(const QJsonObject& body) const {
  const QByteArray bytes = decodeImageBytes(body.value(QLatin1String("image")), QStringLiteral("image"));
  checkImageContainer(bytes, QStringLiteral("image"));
  QBuffer buffer;
  buffer.setData(bytes);
  buffer.open(QIODevice::ReadOnly);
  QImageReader reader(&buffer);
  if (!reader.size().isValid()) return error(422, QStringLiteral("image: not an image Kiln can read"));
  QString info = bridge::pngParameters(bytes);
  QJsonObject items;
  for (const QString& key : reader.textKeys())
    if (key != QLatin1String("parameters")) items.insert(key, reader.text(key));
  return json(QJsonObject{{QStringLiteral("info"), info},
                          {QStringLiteral("items"), items},
                          {QStringLiteral("parameters"), info.isEmpty() ? QJsonObject() : parseInfotext(info)}});
}

ApiServer::Reply ApiServer::embeddings() const {
  // A1111's EmbeddingItem for each file of the --embeddings folders; one Kiln cannot read is
  // listed as skipped. Which model fits is only known when a prompt uses it.
  QJsonObject loaded, skipped;
  std::vector<std::filesystem::path> folders;
  for (const QString& f : mOptions.embeddingFolders) folders.emplace_back(f.toStdString());
  try {
    const pipelines::EmbeddingLibrary library = pipelines::EmbeddingLibrary::scan(folders);
    for (const auto& [name, file] : library.files()) {
      QJsonObject item{{QStringLiteral("step"), QJsonValue::Null},
                       {QStringLiteral("sd_checkpoint"), QJsonValue::Null},
                       {QStringLiteral("sd_checkpoint_name"), QJsonValue::Null}};
      try {
        const pipelines::TextualInversion ti = pipelines::load_textual_inversion(file);
        const qint64 width = ti.is_sdxl() ? ti.clip_l.size(1) + ti.clip_g.size(1) : ti.vectors.size(1);
        item.insert(QStringLiteral("shape"), static_cast<double>(width));
        item.insert(QStringLiteral("vectors"), static_cast<double>(ti.count()));
        loaded.insert(QString::fromStdString(name), item);
      } catch (const std::exception&) {
        item.insert(QStringLiteral("shape"), 0);
        item.insert(QStringLiteral("vectors"), 0);
        skipped.insert(QString::fromStdString(name), item);
      }
    }
  } catch (const kiln::Error& e) {
    return error(500, QString::fromStdString(e.message()));
  }
  return json(QJsonObject{{QStringLiteral("loaded"), loaded}, {QStringLiteral("skipped"), skipped}});
}

ApiServer::Reply ApiServer::memory() const {
  // A1111's shape: the process's share of RAM, and the CUDA device's memory when there is one.
  qint64 total = 0, available = 0, rss = 0;
  QFile meminfo(QStringLiteral("/proc/meminfo"));
  if (meminfo.open(QIODevice::ReadOnly)) {
    for (const QByteArray& line : meminfo.readAll().split('\n')) {
      const QList<QByteArray> parts = line.simplified().split(' ');
      if (parts.size() < 2) continue;
      if (parts[0] == "MemTotal:") total = parts[1].toLongLong() * 1024;
      if (parts[0] == "MemAvailable:") available = parts[1].toLongLong() * 1024;
    }
  }
  QFile status(QStringLiteral("/proc/self/status"));
  if (status.open(QIODevice::ReadOnly))
    for (const QByteArray& line : status.readAll().split('\n'))
      if (line.startsWith("VmRSS:")) rss = line.simplified().split(' ').value(1).toLongLong() * 1024;
  QJsonObject cuda{{QStringLiteral("error"), QStringLiteral("unavailable")}};
  if (app::EngineWorker::usesCuda()) {
    const RuntimeInfo info = runtime_info();
    if (!info.cuda_devices.empty()) {
      const double bytes = info.cuda_devices.front().memory_gib * 1024.0 * 1024.0 * 1024.0;
      cuda = QJsonObject{{QStringLiteral("system"), QJsonObject{{QStringLiteral("total"), bytes}}}};
    }
  }
  return json(QJsonObject{{QStringLiteral("ram"), QJsonObject{{QStringLiteral("free"), double(available)},
                                                              {QStringLiteral("used"), double(rss)},
                                                              {QStringLiteral("total"), double(total)}}},
                          {QStringLiteral("cuda"), cuda}});
}

ApiServer::Reply ApiServer::cmdFlags() const {
  // What the server was started with, without secrets (api_auth never shows the credentials).
  QJsonArray folders;
  for (const QString& f : mOptions.modelFolders) folders.append(f);
  return json(
      QJsonObject{{QStringLiteral("api"), true},
                  {QStringLiteral("nowebui"), true},
                  {QStringLiteral("listen"), !mOptions.address.isLoopback()},
                  {QStringLiteral("server_name"), mOptions.host},
                  {QStringLiteral("port"), mPort},
                  {QStringLiteral("api_auth"),
                   mOptions.credentials.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(QStringLiteral("(set)"))},
                  {QStringLiteral("cors_allow_origins"), mOptions.corsOrigins.isEmpty()
                                                             ? QJsonValue(QJsonValue::Null)
                                                             : QJsonValue(mOptions.corsOrigins.join(QLatin1Char(',')))},
                  {QStringLiteral("ckpt_dir"), folders},
                  {QStringLiteral("api_log"), false},
                  {QStringLiteral("kiln_version"), QStringLiteral(KILN_VERSION)}});
}

}  // namespace kiln::api
