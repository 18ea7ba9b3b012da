// kiln-cli generate / png-info end to end with the golden tiny pipeline: the PNGs equal
// diffusers' (every byte within +-1), carry AUTOMATIC1111's parameters, and errors leave no file.
#include <QBuffer>
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QElapsedTimer>
#include <QProcess>
#include <QtEndian>

#include <functional>
#include <csignal>
#include <sys/types.h>

#include <cmath>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "image_compare.h"
#include "support/test_support.h"

using kiln::test::maxByteDiff;
using kiln::test::runCli;

namespace {

QString golden(const QString& rel) {
  return QString::fromStdString((kiln::test::data_dir() / "golden/pipeline").string()) + QLatin1Char('/') + rel;
}

QString goldenMore(const QString& rel) {
  return QString::fromStdString((kiln::test::data_dir() / "golden/pipeline_more/cases").string()) + QLatin1Char('/') + rel;
}

QString goldenFast(const QString& rel) {
  return QString::fromStdString((kiln::test::data_dir() / "golden/pipeline_fast/cases").string()) + QLatin1Char('/') + rel;
}

QString tinyControlNet() {
  return QString::fromStdString((kiln::test::data_dir() / "golden/controlnet/model").string());
}

// Largest per-channel difference between two images of the same size; -1 when sizes differ.

struct F32Tensor {
  QString key;
  QList<int> shape;
};

// A safetensors file of F32 tensors written by hand (no LibTorch in this test), each element's
// value from `value` in order; returns the data section (empty when the file cannot be written).
QByteArray writeF32Safetensors(const QString& path, const QList<F32Tensor>& tensors,
                               const std::function<float(const F32Tensor&)>& value) {
  QJsonObject header;
  QByteArray data;
  for (const F32Tensor& t : tensors) {
    int count = 1;
    QJsonArray shape;
    for (int d : t.shape) {
      count *= d;
      shape.append(d);
    }
    const qsizetype begin = data.size();
    for (int i = 0; i < count; ++i) {
      char bytes[4];
      qToLittleEndian(value(t), bytes);
      data.append(bytes, 4);
    }
    header.insert(t.key, QJsonObject{{QStringLiteral("dtype"), QStringLiteral("F32")},
                                     {QStringLiteral("shape"), shape},
                                     {QStringLiteral("data_offsets"), QJsonArray{begin, data.size()}}});
  }
  QByteArray json = QJsonDocument(header).toJson(QJsonDocument::Compact);
  while (json.size() % 8 != 0) json.append(' ');
  char length[8];
  qToLittleEndian(static_cast<quint64>(json.size()), length);
  QFile file(path);
  if (!file.open(QIODevice::WriteOnly)) return {};
  file.write(length, 8);
  file.write(json);
  file.write(data);
  return data;
}

// A kohya LoRA for the tiny model's first self-attention query (rank 4, alpha 2). Returns the
// sha256 of its data section (A1111's LoRA hash).
QByteArray writeTinyLoRA(const QString& path) {
  const QString name = QStringLiteral("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q");
  int k = 0;
  const QByteArray data = writeF32Safetensors(
      path,
      {{name + QStringLiteral(".lora_down.weight"), {4, 32}},
       {name + QStringLiteral(".lora_up.weight"), {32, 4}},
       {name + QStringLiteral(".alpha"), {}}},
      [&k](const F32Tensor& t) { return t.shape.isEmpty() ? 2.0f : static_cast<float>(0.5 * std::sin(++k * 0.7)); });
  return data.isEmpty() ? QByteArray() : QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex();
}

// A safetensors embedding with one F32 tensor per (key, shape), values from a sine; returns the
// sha256 of the whole file (A1111's TI hash).
QByteArray writeEmbedding(const QString& path, const QList<QPair<QString, QList<int>>>& tensors) {
  QList<F32Tensor> list;
  for (const auto& [key, dims] : tensors) list.push_back({key, dims});
  int k = 0;
  if (writeF32Safetensors(path, list, [&k](const F32Tensor&) { return static_cast<float>(0.05 * std::sin(++k * 1.3)); })
          .isEmpty())
    return {};
  QFile back(path);
  if (!back.open(QIODevice::ReadOnly)) return {};
  return QCryptographicHash::hash(back.readAll(), QCryptographicHash::Sha256).toHex();
}

}  // namespace

class TestCliGenerate : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void txt2imgMatchesDiffusersAndCarriesParameters() {
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("castle.png"));
    const auto r = runCli({QStringLiteral("generate"), QStringLiteral("--model"), golden(QStringLiteral("tiny_sd1")),
                           QStringLiteral("--prompt"), QStringLiteral("a photo of an astronaut riding a horse on mars"),
                           QStringLiteral("--sampler"), QStringLiteral("ddim"), QStringLiteral("--steps"),
                           QStringLiteral("10"), QStringLiteral("--cfg"), QStringLiteral("7.5"), QStringLiteral("--seed"),
                           QStringLiteral("0"), QStringLiteral("--prompt-syntax"), QStringLiteral("plain"),
                           QStringLiteral("--out"), out});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(r.out.contains("seed 0"));
    QVERIFY(r.err.contains("step 10/10"));
    const int diff = maxByteDiff(QImage(out), QImage(golden(QStringLiteral("cases/txt2img_ddim_10_cfg7.5/image_0.png"))));
    QVERIFY2(diff >= 0 && diff <= 1, qPrintable(QStringLiteral("max byte diff %1").arg(diff)));

    const auto info = runCli({QStringLiteral("png-info"), out});
    QCOMPARE(info.exitCode, 0);
    QCOMPARE(QString::fromUtf8(info.out).trimmed(),
             QStringLiteral("a photo of an astronaut riding a horse on mars\nSteps: 10, Sampler: DDIM, CFG scale: 7.5, "
                            "Seed: 0, Size: 64x64, Model: tiny_sd1, Clip skip: 1, Kiln precision: fp32"));
  }

  void fewStepSamplersWithoutCfgMatchDiffusers_data() {
    QTest::addColumn<QString>("sampler");
    QTest::addColumn<QString>("steps");
    QTest::addColumn<QString>("cfg");
    QTest::addColumn<QString>("seed");
    QTest::addColumn<QString>("prompt");
    QTest::addColumn<QString>("goldenCase");
    QTest::addColumn<QString>("parameters");
    QTest::newRow("LCM, CFG 1") << QStringLiteral("lcm") << QStringLiteral("4") << QStringLiteral("1")
                                << QStringLiteral("4100")
                                << QStringLiteral("a photo of a red apple on a wooden table, studio lighting")
                                << QStringLiteral("lcm_4_cfg1.0")
                                << QStringLiteral("Steps: 4, Sampler: LCM, CFG scale: 1, Seed: 4100");
    QTest::newRow("Turbo, 1 step, CFG 0")
        << QStringLiteral("Euler a Trailing") << QStringLiteral("1") << QStringLiteral("0") << QStringLiteral("4200")
        << QStringLiteral("a cinematic photo of a raccoon wearing a tiny wizard hat")
        << QStringLiteral("turbo_euler_a_trailing_1_cfg0")
        << QStringLiteral("Steps: 1, Sampler: Euler a Trailing, CFG scale: 0, Seed: 4200");
  }

  void fewStepSamplersWithoutCfgMatchDiffusers() {
    QFETCH(QString, sampler);
    QFETCH(QString, steps);
    QFETCH(QString, cfg);
    QFETCH(QString, seed);
    QFETCH(QString, prompt);
    QFETCH(QString, goldenCase);
    QFETCH(QString, parameters);
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("fast.png"));
    const auto r = runCli({QStringLiteral("generate"), QStringLiteral("--model"), golden(QStringLiteral("tiny_sd1")),
                           QStringLiteral("--prompt"), prompt, QStringLiteral("--sampler"), sampler,
                           QStringLiteral("--steps"), steps, QStringLiteral("--cfg"), cfg, QStringLiteral("--seed"), seed,
                           QStringLiteral("--prompt-syntax"), QStringLiteral("plain"), QStringLiteral("--out"), out});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const int diff = maxByteDiff(QImage(out), QImage(goldenFast(goldenCase + QStringLiteral("/image_0.png"))));
    QVERIFY2(diff >= 0 && diff <= 1, qPrintable(QStringLiteral("max byte diff %1").arg(diff)));
    const auto info = runCli({QStringLiteral("png-info"), out});
    QCOMPARE(info.exitCode, 0);
    QVERIFY2(QString::fromUtf8(info.out).contains(parameters), info.out.constData());
  }

  void img2imgMatchesDiffusers() {
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("landscape.png"));
    const QString c = QStringLiteral("cases/img2img_ddim_20_strength0.6/");
    const auto r = runCli({QStringLiteral("generate"), QStringLiteral("--model"), golden(QStringLiteral("tiny_sd1")),
                           QStringLiteral("--prompt"), QStringLiteral("an oil painting of a landscape"),
                           QStringLiteral("--sampler"), QStringLiteral("DDIM"), QStringLiteral("--steps"),
                           QStringLiteral("20"), QStringLiteral("--cfg"), QStringLiteral("7.5"), QStringLiteral("--seed"),
                           QStringLiteral("7"), QStringLiteral("--init-image"), golden(c + QStringLiteral("input_image.png")),
                           QStringLiteral("--strength"), QStringLiteral("0.6"), QStringLiteral("--out"), out});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(r.err.contains("step 12/12"));
    const int diff = maxByteDiff(QImage(out), QImage(golden(c + QStringLiteral("image_0.png"))));
    QVERIFY2(diff >= 0 && diff <= 1, qPrintable(QStringLiteral("max byte diff %1").arg(diff)));
    QVERIFY(runCli({QStringLiteral("png-info"), out}).out.contains("Denoising strength: 0.6"));
  }

  void singleFileWithClipSkipMatchesDiffusers() {
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("cat.png"));
    const auto r = runCli({QStringLiteral("generate"), QStringLiteral("--model"), golden(QStringLiteral("tiny_sd1.safetensors")),
                           QStringLiteral("--config"), golden(QStringLiteral("tiny_sd1")), QStringLiteral("--prompt"),
                           QStringLiteral("a cute cat, (masterpiece:1.2), best quality"), QStringLiteral("--negative"),
                           QStringLiteral("blurry, lowres"), QStringLiteral("--sampler"), QStringLiteral("Euler a"),
                           QStringLiteral("--steps"), QStringLiteral("8"), QStringLiteral("--cfg"), QStringLiteral("5"),
                           QStringLiteral("--seed"), QStringLiteral("1234"), QStringLiteral("--clip-skip"),
                           QStringLiteral("2"), QStringLiteral("--prompt-syntax"), QStringLiteral("plain"),
                           QStringLiteral("--out"), out});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const int diff = maxByteDiff(QImage(out), QImage(golden(QStringLiteral("cases/txt2img_euler_a_8_cfg5_clipskip1/image_0.png"))));
    QVERIFY2(diff >= 0 && diff <= 1, qPrintable(QStringLiteral("max byte diff %1").arg(diff)));
    const QString params = QString::fromUtf8(runCli({QStringLiteral("png-info"), out}).out);
    QVERIFY(params.contains(QStringLiteral("Negative prompt: blurry, lowres\n")));
    QVERIFY(params.contains(QStringLiteral("Sampler: Euler a, CFG scale: 5, Seed: 1234, Size: 64x64, Model hash: ")));
    QVERIFY(params.contains(QStringLiteral("Model: tiny_sd1, Clip skip: 2")));
  }

  void batchAndCountNameFilesAndSeeds() {
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("b.png"));
    const auto r = runCli({QStringLiteral("generate"), QStringLiteral("--model"), golden(QStringLiteral("tiny_sd1")),
                           QStringLiteral("--prompt"), QStringLiteral("x"), QStringLiteral("--steps"), QStringLiteral("2"),
                           QStringLiteral("--seed"), QStringLiteral("5"), QStringLiteral("--batch"), QStringLiteral("2"),
                           QStringLiteral("--count"), QStringLiteral("2"), QStringLiteral("--out"), out});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files),
             (QStringList{QStringLiteral("b-0.png"), QStringLiteral("b-1.png"), QStringLiteral("b-2.png"),
                          QStringLiteral("b-3.png")}));
    const QStringList seeds{QStringLiteral("5"), QStringLiteral("5"), QStringLiteral("6"), QStringLiteral("6")};
    for (int i = 0; i < 4; ++i) {
      const auto info = runCli({QStringLiteral("png-info"), dir.filePath(QStringLiteral("b-%1.png").arg(i))});
      QVERIFY(info.out.contains(QStringLiteral("Seed: %1,").arg(seeds[i]).toUtf8()));
    }
    // Default sampler and the native size of the tiny model (64).
    QVERIFY(runCli({QStringLiteral("png-info"), dir.filePath(QStringLiteral("b-0.png"))})
                .out.contains("Steps: 2, Sampler: Euler a, CFG scale: 7, Seed: 5, Size: 64x64"));
  }

  void loraIsAppliedAndRecorded() {
    QTemporaryDir dir;
    const QString lora = dir.filePath(QStringLiteral("tiny_style.safetensors"));
    const QByteArray hash = writeTinyLoRA(lora);
    QVERIFY(!hash.isEmpty());
    const QStringList base{QStringLiteral("generate"), QStringLiteral("--model"), golden(QStringLiteral("tiny_sd1")),
                           QStringLiteral("--prompt"), QStringLiteral("a castle"), QStringLiteral("--steps"),
                           QStringLiteral("2"), QStringLiteral("--width"), QStringLiteral("64"), QStringLiteral("--height"),
                           QStringLiteral("64"), QStringLiteral("--seed"), QStringLiteral("3"), QStringLiteral("--out")};
    const QString plain = dir.filePath(QStringLiteral("plain.png")), styled = dir.filePath(QStringLiteral("styled.png"));
    auto r = runCli(base + QStringList{plain});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    r = runCli(base + QStringList{styled, QStringLiteral("--lora"), lora + QStringLiteral(":0.8")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(r.err.contains("applying 1 LoRA\n"), r.err.constData());
    QVERIFY2(r.err.contains("LoRAs changed 1 weights"), r.err.constData());
    QVERIFY(QImage(plain) != QImage(styled));
    const QString params = QString::fromUtf8(runCli({QStringLiteral("png-info"), styled}).out).trimmed();
    QVERIFY2(params.startsWith(QStringLiteral("a castle <lora:tiny_style:0.8>\nSteps: 2,")), qPrintable(params));
    QVERIFY2(params.endsWith(QStringLiteral("Clip skip: 1, Lora hashes: \"tiny_style: %1\", Kiln precision: fp32")
                                 .arg(QString::fromLatin1(hash.left(12)))),
             qPrintable(params));
    // Weight 0 merges nothing: the image without the LoRA.
    const QString zero = dir.filePath(QStringLiteral("zero.png"));
    r = runCli(base + QStringList{zero, QStringLiteral("--lora"), lora + QStringLiteral(":0")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QCOMPARE(QImage(zero), QImage(plain));
  }

  void embeddingsAreUsedByNameAndRecorded() {
    QTemporaryDir dir, other;
    QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("sub")));
    const QByteArray style = writeEmbedding(dir.filePath(QStringLiteral("tiemb.safetensors")),
                                            {{QStringLiteral("emb_params"), {2, 32}}});
    const QByteArray negative = writeEmbedding(dir.filePath(QStringLiteral("sub/neg-emb.safetensors")),
                                               {{QStringLiteral("string_to_param.*"), {1, 32}}});
    writeEmbedding(other.filePath(QStringLiteral("unused.safetensors")), {{QStringLiteral("emb_params"), {1, 32}}});
    QVERIFY(!style.isEmpty() && !negative.isEmpty());
    const QStringList base{QStringLiteral("generate"), QStringLiteral("--model"), golden(QStringLiteral("tiny_sd1")),
                           QStringLiteral("--steps"), QStringLiteral("2"), QStringLiteral("--seed"), QStringLiteral("3"),
                           QStringLiteral("--negative"), QStringLiteral("neg-emb"), QStringLiteral("--out")};
    const QString plain = dir.filePath(QStringLiteral("plain.png")), used = dir.filePath(QStringLiteral("used.png"));
    auto r = runCli(base + QStringList{plain, QStringLiteral("--prompt"), QStringLiteral("a castle, (tiemb:1.2)")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    r = runCli(base + QStringList{used, QStringLiteral("--prompt"), QStringLiteral("a castle, (tiemb:1.2)"),
                                  QStringLiteral("--embeddings"), dir.path(), QStringLiteral("--embeddings"), other.path()});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(r.err.contains("embeddings: tiemb (2 vectors), neg-emb (1 vector)\n"), r.err.constData());
    QVERIFY(QImage(plain) != QImage(used));
    const QString params = QString::fromUtf8(runCli({QStringLiteral("png-info"), used}).out).trimmed();
    QVERIFY2(params.startsWith(QStringLiteral("a castle, (tiemb:1.2)\nNegative prompt: neg-emb\nSteps: 2,")),
             qPrintable(params));
    QVERIFY2(params.contains(QStringLiteral("TI hashes: \"tiemb: %1, neg-emb: %2\"")
                                 .arg(QString::fromLatin1(style.left(12)), QString::fromLatin1(negative.left(12)))),
             qPrintable(params));
    QVERIFY2(!QString::fromUtf8(runCli({QStringLiteral("png-info"), plain}).out).contains(QStringLiteral("TI hashes")),
             "no embeddings folder, no TI hashes");
    // Folders given, no name used: said so, nothing recorded.
    const QString none = dir.filePath(QStringLiteral("none.png"));
    r = runCli(QStringList{QStringLiteral("generate"), QStringLiteral("--model"), golden(QStringLiteral("tiny_sd1")),
                           QStringLiteral("--steps"), QStringLiteral("2"), QStringLiteral("--prompt"), QStringLiteral("a castle"),
                           QStringLiteral("--embeddings"), other.path(), QStringLiteral("--out"), none});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(r.err.contains("embeddings: none of the 1 found is in the prompts"), r.err.constData());
    QVERIFY(!QString::fromUtf8(runCli({QStringLiteral("png-info"), none}).out).contains(QStringLiteral("TI hashes")));
  }

  void badEmbeddingsExitNonZeroAndWriteNothing() {
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("never.png"));
    writeEmbedding(dir.filePath(QStringLiteral("narrow.safetensors")), {{QStringLiteral("emb_params"), {1, 16}}});
    writeEmbedding(dir.filePath(QStringLiteral("xl.safetensors")), {{QStringLiteral("clip_l"), {1, 32}}});
    writeEmbedding(dir.filePath(QStringLiteral("model.safetensors")),
                   {{QStringLiteral("a.weight"), {2, 2}}, {QStringLiteral("b.weight"), {2, 2}}});
    const QStringList base{QStringLiteral("generate"), QStringLiteral("--model"), golden(QStringLiteral("tiny_sd1")),
                           QStringLiteral("--steps"), QStringLiteral("2"), QStringLiteral("--out"), out,
                           QStringLiteral("--embeddings"), dir.path(), QStringLiteral("--prompt")};
    const QList<QPair<QString, QByteArray>> cases{
        {QStringLiteral("a narrow castle"), "narrow.safetensors) has 16-wide vectors; the model is SD 1.x/2.x, its text "
                                            "encoder takes 32-wide vectors"},
        {QStringLiteral("xl castle"), "xl.safetensors: an SDXL embedding needs clip_l and clip_g; this file has no clip_g"},
        {QStringLiteral("model castle"), "model.safetensors: not a textual inversion embedding"}};
    for (const auto& [prompt, message] : cases) {
      const auto r = runCli(base + QStringList{prompt});
      QCOMPARE(r.exitCode, 1);
      QVERIFY2(r.err.contains(message), r.err.constData());
      QVERIFY2(!r.err.contains("step "), "no sampling");
    }
    auto r = runCli(QStringList{QStringLiteral("generate"), QStringLiteral("--model"), golden(QStringLiteral("tiny_sd1")),
                                QStringLiteral("--prompt"), QStringLiteral("x"), QStringLiteral("--out"), out,
                                QStringLiteral("--embeddings"), dir.filePath(QStringLiteral("absent"))});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("absent: no such embeddings folder"), r.err.constData());
    QVERIFY(!QFile::exists(out));
  }

  void badLoRAExitsNonZeroAndWritesNothing() {
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("never.png"));
    const QString bad = dir.filePath(QStringLiteral("notes.safetensors"));
    QFile file(bad);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("these are not weights");
    file.close();
    const QStringList base{QStringLiteral("generate"), QStringLiteral("--model"), golden(QStringLiteral("tiny_sd1")),
                           QStringLiteral("--prompt"), QStringLiteral("x"), QStringLiteral("--steps"),
                           QStringLiteral("2"), QStringLiteral("--out"), out, QStringLiteral("--lora")};
    auto r = runCli(base + QStringList{bad + QStringLiteral(":0.5")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("kiln-cli generate: " + bad.toUtf8() + ": "), r.err.constData());
    // A LoRA of another base: the tiny model's own weights are not a LoRA at all.
    r = runCli(base + QStringList{golden(QStringLiteral("tiny_sd1.safetensors"))});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("\"tiny_sd1.safetensors\" is a Stable Diffusion 1.x model, not a LoRA"), r.err.constData());
    // No number after the last ':': all of it is the path.
    r = runCli(base + QStringList{dir.filePath(QStringLiteral("absent.safetensors:strong"))});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("absent.safetensors:strong"), r.err.constData());
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{QStringLiteral("notes.safetensors")});
  }

  void controlNetUnitsMatchDiffusersAndAreRecorded() {
    // Two units (diffusers' MultiControlNetModel case): the second given with the old
    // --control-scale name.
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("lighthouse.png"));
    const QString c = QStringLiteral("controlnet_multi_ddim_10_cfg7_scales0.6_0.9/");
    const auto r = runCli({QStringLiteral("generate"), QStringLiteral("--model"), golden(QStringLiteral("tiny_sd1")),
                           QStringLiteral("--prompt"), QStringLiteral("a lighthouse on a rocky coast at dusk"),
                           QStringLiteral("--negative"), QStringLiteral("low quality"), QStringLiteral("--sampler"),
                           QStringLiteral("ddim"), QStringLiteral("--steps"), QStringLiteral("10"), QStringLiteral("--cfg"),
                           QStringLiteral("7"), QStringLiteral("--seed"), QStringLiteral("2302"),
                           QStringLiteral("--prompt-syntax"), QStringLiteral("plain"), QStringLiteral("--controlnet"),
                           tinyControlNet(), QStringLiteral("--control-image"),
                           goldenMore(c + QStringLiteral("control_image_0.png")), QStringLiteral("--control-weight=0.6"),
                           QStringLiteral("--controlnet"), tinyControlNet(), QStringLiteral("--control-scale"),
                           QStringLiteral("0.9"), QStringLiteral("--control-image"),
                           goldenMore(c + QStringLiteral("control_image_1.png")), QStringLiteral("--out"), out});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QCOMPARE(r.err.count("loading " + tinyControlNet().toUtf8()), 1);  // one load for both units
    const int diff = maxByteDiff(QImage(out), QImage(goldenMore(c + QStringLiteral("image_0.png"))));
    QVERIFY2(diff >= 0 && diff <= 1, qPrintable(QStringLiteral("max byte diff %1").arg(diff)));
    const QString params = QString::fromUtf8(runCli({QStringLiteral("png-info"), out}).out).trimmed();
    // The tiny ControlNet folder's weights: A1111's old hash of their 64 KiB at 1 MiB.
    const QString unit = QStringLiteral(
        "ControlNet %1: \"Module: none, Model: model [fea4b5d4], Weight: %2, Resize Mode: Crop and Resize, Processor "
        "Res: 512, Threshold A: 0.5, Threshold B: 0.5, Guidance Start: 0.0, Guidance End: 1.0, Pixel Perfect: False, "
        "Control Mode: Balanced\"");
    QVERIFY2(params.endsWith(QStringLiteral("Clip skip: 1, ") + unit.arg(0).arg(QStringLiteral("0.6")) +
                             QStringLiteral(", ") + unit.arg(1).arg(QStringLiteral("0.9")) +
                             QStringLiteral(", Kiln precision: fp32")),
             qPrintable(params));
  }

  void guessModeIsControlNetMoreImportant() {
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("shapes.png"));
    const QString c = QStringLiteral("controlnet_euler_8_cfg3_guess_mode/");
    const auto r = runCli({QStringLiteral("generate"), QStringLiteral("--model"), golden(QStringLiteral("tiny_sd1")),
                           QStringLiteral("--prompt"), QString(), QStringLiteral("--sampler"), QStringLiteral("euler"),
                           QStringLiteral("--steps"), QStringLiteral("8"), QStringLiteral("--cfg"), QStringLiteral("3"),
                           QStringLiteral("--seed"), QStringLiteral("2301"), QStringLiteral("--prompt-syntax"),
                           QStringLiteral("plain"), QStringLiteral("--control-mode"), QStringLiteral("controlnet"),
                           QStringLiteral("--controlnet"), tinyControlNet(), QStringLiteral("--control-image"),
                           goldenMore(c + QStringLiteral("control_image_0.png")), QStringLiteral("--out"), out});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const int diff = maxByteDiff(QImage(out), QImage(goldenMore(c + QStringLiteral("image_0.png"))));
    QVERIFY2(diff >= 0 && diff <= 1, qPrintable(QStringLiteral("max byte diff %1").arg(diff)));
    QVERIFY(runCli({QStringLiteral("png-info"), out}).out.contains("Control Mode: ControlNet is more important\""));
  }

  void controlNetMistakesExitNonZeroAndWriteNothing() {
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("never.png"));
    const QString edges = goldenMore(QStringLiteral("controlnet_dpmpp_2m_10_cfg7.5_scale0.7/control_image_0.png"));
    const QStringList base{QStringLiteral("generate"), QStringLiteral("--model"), golden(QStringLiteral("tiny_sd1")),
                           QStringLiteral("--prompt"), QStringLiteral("x"), QStringLiteral("--steps"), QStringLiteral("2"),
                           QStringLiteral("--out"), out};
    const QStringList unit{QStringLiteral("--controlnet"), tinyControlNet(), QStringLiteral("--control-image"), edges};
    auto r = runCli(base + QStringList{QStringLiteral("--control-weight"), QStringLiteral("0.5")} + unit + unit);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("--control-weight comes before the first --controlnet"), r.err.constData());
    r = runCli(base + unit + QStringList{QStringLiteral("--control-mode"), QStringLiteral("loud")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("--control-mode of ControlNet unit 1 must be balanced, prompt or controlnet, got 'loud'"),
             r.err.constData());
    r = runCli(base + unit + QStringList{QStringLiteral("--controlnet"), tinyControlNet()});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("ControlNet unit 2 (--controlnet " + tinyControlNet().toUtf8() + ") has no --control-image"),
             r.err.constData());
    r = runCli(base + unit + QStringList{QStringLiteral("--control-scale"), QStringLiteral("1"),
                                         QStringLiteral("--control-weight"), QStringLiteral("1")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("--control-weight is given twice for ControlNet unit 1"), r.err.constData());
    // A damaged control image: refused naming the unit and the file.
    const QString broken = dir.filePath(QStringLiteral("broken.png"));
    QByteArray png = kiln::test::fileBytes(edges.toStdString());
    png.truncate(png.size() / 2);
    QFile brokenFile(broken);
    QVERIFY(brokenFile.open(QIODevice::WriteOnly));
    brokenFile.write(png);
    brokenFile.close();
    r = runCli(
        base + unit +
        QStringList{QStringLiteral("--controlnet"), tinyControlNet(), QStringLiteral("--control-image"), broken});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("kiln-cli generate: ControlNet unit 2: " + broken.toUtf8() + ": corrupt or truncated PNG"),
             r.err.constData());
    // Preprocessor mistakes: found before any model is loaded.
    r = runCli(base + unit + QStringList{QStringLiteral("--control-module"), QStringLiteral("sobel")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("kiln-cli generate: ControlNet unit 1: unknown preprocessor 'sobel' (kiln-cli control list "
                            "shows them)"),
             r.err.constData());
    QVERIFY2(!r.err.contains("loading"), r.err.constData());
    r = runCli(base + unit +
               QStringList{QStringLiteral("--control-module"), QStringLiteral("canny"),
                           QStringLiteral("--control-param"), QStringLiteral("high_threshold=999")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("ControlNet unit 1: preprocessor 'canny': high_threshold = 999 is outside 0..256"),
             r.err.constData());
    QVERIFY2(!r.err.contains("loading"), r.err.constData());
    // An inpaint unit needs its mask; other modules take none.
    r = runCli(base + unit + QStringList{QStringLiteral("--control-module"), QStringLiteral("inpaint_only")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("ControlNet unit 1 (--control-module inpaint_only) needs --control-mask MASK.png: white = "
                            "the part to repaint"),
             r.err.constData());
    r = runCli(base + unit +
               QStringList{QStringLiteral("--control-module"), QStringLiteral("canny"),
                           QStringLiteral("--control-mask"), edges});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("--control-mask of ControlNet unit 1 is for the inpaint modules (inpaint, inpaint_only), "
                            "not 'canny'"),
             r.err.constData());
    r = runCli(base + unit + QStringList{QStringLiteral("--control-mask"), edges});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("--control-mask of ControlNet unit 1 sets the preprocessor, but the unit has no "
                            "--control-module"),
             r.err.constData());
    // A network preprocessor's weights are looked for before the models are loaded.
    const QString annotators = dir.filePath(QStringLiteral("annotators"));
    QVERIFY(QDir().mkpath(annotators));
    r = runCli(base + unit +
               QStringList{QStringLiteral("--control-module"), QStringLiteral("softedge_hed"),
                           QStringLiteral("--annotator-dir"), annotators});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("ControlNet unit 1: preprocessor 'softedge_hed' needs its weights ControlNetHED.pth"),
             r.err.constData());
    QVERIFY2(r.err.contains("licence: Apache-2.0"), r.err.constData());
    QVERIFY2(!r.err.contains("loading"), r.err.constData());
    // Usage: settings of a preprocessor without one, a resize mode that does not exist.
    r = runCli(base + unit + QStringList{QStringLiteral("--control-param"), QStringLiteral("low_threshold=5")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("--control-param of ControlNet unit 1 sets the preprocessor, but the unit has no "
                            "--control-module"),
             r.err.constData());
    r = runCli(base + unit + QStringList{QStringLiteral("--control-resize"), QStringLiteral("squash")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("--control-resize of ControlNet unit 1 must be just, crop or fill, got 'squash'"),
             r.err.constData());
    r = runCli(base + unit +
               QStringList{QStringLiteral("--control-module"), QStringLiteral("canny"),
                           QStringLiteral("--control-resolution"), QStringLiteral("256"),
                           QStringLiteral("--control-pixel-perfect")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("--control-resolution and --control-pixel-perfect of ControlNet unit 1 exclude each other"),
             r.err.constData());
    r = runCli(base + unit +
               QStringList{QStringLiteral("--control-module"), QStringLiteral("canny"),
                           QStringLiteral("--control-param"), QStringLiteral("low_threshold=5"),
                           QStringLiteral("--control-param=low_threshold=6")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("--control-param low_threshold is given twice for ControlNet unit 1"), r.err.constData());
    // Not a ControlNet: refused from the headers, before loading anything.
    r = runCli(base + QStringList{QStringLiteral("--controlnet"), golden(QStringLiteral("tiny_sd1.safetensors")),
                                  QStringLiteral("--control-image"), edges});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("ControlNet unit 1 (\"tiny_sd1.safetensors\") is not a ControlNet (it holds a Stable "
                            "Diffusion 1.x model)"),
             r.err.constData());
    QVERIFY2(!r.err.contains("loading"), r.err.constData());
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{QStringLiteral("broken.png")});
  }

  void preprocessedUnitIsFittedAndRecorded() {
    // A 300x200 photo through canny, fitted into the 64x64 output with Resize and Fill: the same
    // image as detect's map given as the unit's image, and A1111's record of the unit.
    QTemporaryDir dir;
    const QString photo =
        QString::fromStdString((kiln::test::data_dir() / "golden/control_maps/inputs/photo_landscape.png").string());
    const QStringList base{QStringLiteral("generate"),
                           QStringLiteral("--model"),
                           golden(QStringLiteral("tiny_sd1")),
                           QStringLiteral("--prompt"),
                           QStringLiteral("a coffee cup"),
                           QStringLiteral("--steps"),
                           QStringLiteral("2"),
                           QStringLiteral("--seed"),
                           QStringLiteral("11"),
                           QStringLiteral("--controlnet"),
                           tinyControlNet(),
                           QStringLiteral("--control-resize"),
                           QStringLiteral("fill"),
                           QStringLiteral("--out")};
    const QString inRun = dir.filePath(QStringLiteral("in_run.png"));
    auto r = runCli(base + QStringList{inRun, QStringLiteral("--control-image"), photo,
                                       QStringLiteral("--control-module"), QStringLiteral("canny")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(r.err.contains("preprocessing ControlNet unit 1: canny"), r.err.constData());
    const QString params = QString::fromUtf8(runCli({QStringLiteral("png-info"), inRun}).out).trimmed();
    QVERIFY2(params.endsWith(QStringLiteral(
                 "ControlNet 0: \"Module: canny, Model: model [fea4b5d4], Weight: 1.0, Resize Mode: Resize and Fill, "
                 "Processor Res: 512, Threshold A: 100.0, Threshold B: 200.0, Guidance Start: 0.0, Guidance End: 1.0, "
                 "Pixel Perfect: False, Control Mode: Balanced\", Kiln precision: fp32")),
             qPrintable(params));

    const QString map = dir.filePath(QStringLiteral("edges.png"));
    r = runCli({QStringLiteral("control"), QStringLiteral("detect"), QStringLiteral("--module"),
                QStringLiteral("canny"), photo, QStringLiteral("--out"), map});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const QString fromMap = dir.filePath(QStringLiteral("from_map.png"));
    r = runCli(base + QStringList{fromMap, QStringLiteral("--control-image"), map});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QCOMPARE(QImage(fromMap), QImage(inRun));
    QVERIFY(runCli({QStringLiteral("png-info"), fromMap}).out.contains("\"Module: none, "));

    // Pixel Perfect: min(64 / 200, 64 / 300) * 200 = 42.67 -> 43 (Resize and Fill takes the smaller scale).
    const QString perfect = dir.filePath(QStringLiteral("perfect.png"));
    r = runCli(base + QStringList{perfect, QStringLiteral("--control-image"), photo, QStringLiteral("--control-module"),
                                  QStringLiteral("canny"), QStringLiteral("--control-pixel-perfect"),
                                  QStringLiteral("--control-param"), QStringLiteral("low_threshold=50")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const QString perfectParams = QString::fromUtf8(runCli({QStringLiteral("png-info"), perfect}).out);
    QVERIFY2(perfectParams.contains(QStringLiteral("Module: canny, Model: model [fea4b5d4], Weight: 1.0, Resize Mode: "
                                                   "Resize and Fill, Processor Res: 43, Threshold A: 50.0, Threshold "
                                                   "B: 200.0, Guidance Start: 0.0, Guidance End: 1.0, Pixel Perfect: "
                                                   "True")),
             qPrintable(perfectParams));
    QVERIFY(QImage(perfect) != QImage(inRun));
  }

  void inpaintUnitTakesItsMask() {
    // --control-mask per unit, in order: an inpaint_only unit on a photo, guided where the mask is
    // black; a mask of another size is refused naming both files; the record names the module.
    QTemporaryDir dir;
    const QString photo =
        QString::fromStdString((kiln::test::data_dir() / "golden/control_maps/inputs/photo_landscape.png").string());
    const QImage picture(photo);
    QVERIFY(!picture.isNull());
    QImage left(picture.size(), QImage::Format_Grayscale8), right(picture.size(), QImage::Format_Grayscale8);
    for (int y = 0; y < picture.height(); ++y) {
      for (int x = 0; x < picture.width(); ++x) {
        left.scanLine(y)[x] = x < picture.width() / 2 ? 255 : 0;
        right.scanLine(y)[x] = x < picture.width() / 2 ? 0 : 255;
      }
    }
    const QString leftMask = dir.filePath(QStringLiteral("left.png")), rightMask = dir.filePath(QStringLiteral("right.png"));
    const QString smallMask = dir.filePath(QStringLiteral("small.png"));
    QVERIFY(left.save(leftMask) && right.save(rightMask) && left.scaled(16, 16).save(smallMask));
    const QString edges = goldenMore(QStringLiteral("controlnet_dpmpp_2m_10_cfg7.5_scale0.7/control_image_0.png"));
    const QStringList base{QStringLiteral("generate"), QStringLiteral("--model"), golden(QStringLiteral("tiny_sd1")),
                           QStringLiteral("--prompt"), QStringLiteral("a coffee cup"), QStringLiteral("--steps"),
                           QStringLiteral("2"), QStringLiteral("--seed"), QStringLiteral("5"),
                           // Unit 1: a plain map; unit 2 the inpaint unit: its mask is the second unit's.
                           QStringLiteral("--controlnet"), tinyControlNet(), QStringLiteral("--control-image"), edges,
                           QStringLiteral("--controlnet"), tinyControlNet(), QStringLiteral("--control-image"), photo,
                           QStringLiteral("--control-module"), QStringLiteral("inpaint_only"),
                           QStringLiteral("--control-mask")};
    const QString a = dir.filePath(QStringLiteral("a.png")), b = dir.filePath(QStringLiteral("b.png"));
    auto r = runCli(base + QStringList{leftMask, QStringLiteral("--out"), a});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    r = runCli(base + QStringList{rightMask, QStringLiteral("--out"), b});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY2(maxByteDiff(QImage(a), QImage(b)) > 0, "the mask changes what the inpaint unit guides with");
    const QString params = QString::fromUtf8(runCli({QStringLiteral("png-info"), a}).out);
    QVERIFY2(params.contains(QStringLiteral("ControlNet 1: \"Module: inpaint_only, Model: model [")), qPrintable(params));
    const QString never = dir.filePath(QStringLiteral("never.png"));
    r = runCli(base + QStringList{smallMask, QStringLiteral("--out"), never});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("ControlNet unit 2: the mask " + smallMask.toUtf8() + " is 16x16 but the image"),
             r.err.constData());
    QVERIFY(!QFile::exists(never));
    r = runCli({QStringLiteral("generate"), QStringLiteral("--help")});
    QVERIFY(r.out.contains("--control-mask <MASK>"));
  }

  void ctrlCCancelsANetworkPreprocessor() {
    // SIGINT while softedge_hed (tiny weights, a large resolution: seconds) runs for unit 1: the
    // preprocessor stops at its next stage, nothing is written, exit 130.
    QTemporaryDir dir;
    const QString annotators = dir.filePath(QStringLiteral("annotators"));
    QVERIFY(QDir().mkpath(annotators));
    QVERIFY(QFile::copy(QString::fromStdString((kiln::test::data_dir() / "golden/control_maps/nets/hed/weights.safetensors").string()),
                        annotators + QStringLiteral("/ControlNetHED.safetensors")));
    const QString photo =
        QString::fromStdString((kiln::test::data_dir() / "golden/control_maps/inputs/photo_landscape.png").string());
    const QString out = dir.filePath(QStringLiteral("never.png"));
    QProcess p;
    p.setProcessChannelMode(QProcess::SeparateChannels);
    p.start(QStringLiteral(KILN_CLI),
            {QStringLiteral("generate"), QStringLiteral("--model"), golden(QStringLiteral("tiny_sd1")),
             QStringLiteral("--prompt"), QStringLiteral("x"), QStringLiteral("--steps"), QStringLiteral("2"),
             QStringLiteral("--controlnet"), tinyControlNet(), QStringLiteral("--control-image"), photo,
             QStringLiteral("--control-module"), QStringLiteral("softedge_hed"), QStringLiteral("--control-resolution"),
             QStringLiteral("2048"), QStringLiteral("--annotator-dir"), annotators, QStringLiteral("--out"), out});
    QVERIFY(p.waitForStarted());
    QByteArray err;
    QElapsedTimer waited;
    waited.start();
    while (!err.contains("preprocessing ControlNet unit 1") && p.state() == QProcess::Running && waited.elapsed() < 120000) {
      p.waitForReadyRead(100);
      err += p.readAllStandardError();
    }
    QVERIFY2(err.contains("preprocessing ControlNet unit 1: softedge_hed"), err.constData());
    QCOMPARE(::kill(static_cast<pid_t>(p.processId()), SIGINT), 0);
    QVERIFY(p.waitForFinished(120000));
    err += p.readAllStandardError();
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 130);
    QVERIFY2(err.contains("kiln-cli generate: cancelled while preparing ControlNet unit 1; nothing written"),
             err.constData());
    QVERIFY(!QFile::exists(out));
  }

  void mapOfAnotherSizeIsCroppedByDefault() {
    // A 32x48 map (A1111's default Crop and Resize): scaled to cover 64x64 and cropped; before
    // resize modes it was refused.
    QTemporaryDir dir;
    const QString edges = goldenMore(QStringLiteral("controlnet_dpmpp_2m_10_cfg7.5_scale0.7/control_image_0.png"));
    const QString small = dir.filePath(QStringLiteral("small.png"));
    QVERIFY(QImage(edges).scaled(32, 48).save(small));
    const QString out = dir.filePath(QStringLiteral("out.png"));
    const auto r = runCli({QStringLiteral("generate"), QStringLiteral("--model"), golden(QStringLiteral("tiny_sd1")),
                           QStringLiteral("--prompt"), QStringLiteral("x"), QStringLiteral("--steps"),
                           QStringLiteral("2"), QStringLiteral("--controlnet"), tinyControlNet(),
                           QStringLiteral("--control-image"), small, QStringLiteral("--out"), out});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(runCli({QStringLiteral("png-info"), out}).out.contains("Resize Mode: Crop and Resize, Processor Res: 512"));
  }

  // --dtype: auto (the default) resolves through base/precision.h and the PNG records the result;
  // bf16 on a CPU without native bf16 (KILN_ASSUME_NO_BF16=1 plays one) is refused before
  // anything is loaded, with the reason; fp16 needs CUDA.
  void dtypeResolvesAndBf16NeedsNativeSupport() {
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("auto.png"));
    const QStringList base{QStringLiteral("generate"), QStringLiteral("--model"), golden(QStringLiteral("tiny_sd1")),
                           QStringLiteral("--prompt"), QStringLiteral("a castle"), QStringLiteral("--steps"),
                           QStringLiteral("2"), QStringLiteral("--seed"), QStringLiteral("3"), QStringLiteral("--out")};
    auto r = runCli(base + QStringList{out, QStringLiteral("--dtype"), QStringLiteral("auto")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    // kCpuAutoUsesBf16 is false: fp32 on the CPU (this test runs on the CPU).
    QVERIFY2(r.err.contains("precision: fp32, automatic on the CPU\n"), r.err.constData());
    QVERIFY(runCli({QStringLiteral("png-info"), out}).out.contains(", Kiln precision: fp32"));
    // Without --dtype: the same image.
    const QString byDefault = dir.filePath(QStringLiteral("default.png"));
    r = runCli(base + QStringList{byDefault});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(r.err.contains("precision: fp32, automatic on the CPU\n"));
    QCOMPARE(QImage(byDefault), QImage(out));

    const QString refused = dir.filePath(QStringLiteral("refused.png"));
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("KILN_ASSUME_NO_BF16"), QStringLiteral("1"));
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(KILN_CLI), base + QStringList{refused, QStringLiteral("--dtype"), QStringLiteral("bf16")});
    QVERIFY(p.waitForFinished(120000));
    const QByteArray err = p.readAllStandardError();
    QCOMPARE(p.exitCode(), 1);
    QVERIFY2(err.contains("kiln-cli generate: bf16 was chosen, but this CPU does not compute bf16 natively"), err.constData());
    QVERIFY2(err.contains("30x slower than fp32 (use fp32 (or auto) on this CPU)"), err.constData());
    QVERIFY2(!err.contains("loading "), err.constData());
    // The same switch shows in --version.
    p.start(QStringLiteral(KILN_CLI), {QStringLiteral("--version")});
    QVERIFY(p.waitForFinished(60000));
    QVERIFY(p.readAllStandardOutput().contains(", no native bf16 (KILN_ASSUME_NO_BF16 is set)\n"));

    r = runCli(base + QStringList{refused, QStringLiteral("--dtype"), QStringLiteral("fp16")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("fp16 needs a CUDA device"), r.err.constData());
    r = runCli(base + QStringList{refused, QStringLiteral("--dtype"), QStringLiteral("fp8")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("--dtype must be auto, fp32, bf16 or fp16, got 'fp8'"), r.err.constData());
    QVERIFY(!QFileInfo::exists(refused));

    const auto help = runCli({QStringLiteral("generate"), QStringLiteral("--help")});
    QVERIFY(help.out.contains("--dtype <TYPE>"));
    QVERIFY(help.out.contains("auto (default"));
  }

  void errorsExitNonZeroAndWriteNothing() {
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("never.png"));
    const QStringList base{QStringLiteral("generate"), QStringLiteral("--model"), golden(QStringLiteral("tiny_sd1")),
                           QStringLiteral("--prompt"), QStringLiteral("x"), QStringLiteral("--out"), out};
    auto r = runCli(base + QStringList{QStringLiteral("--width"), QStringLiteral("68")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.trimmed().endsWith("\nkiln-cli generate: width must be a multiple of 8, got 68 (e.g. 64 or 72)"),
             r.err.constData());
    r = runCli(base + QStringList{QStringLiteral("--sampler"), QStringLiteral("warp drive")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.err.contains("warp drive"));
    r = runCli(base + QStringList{QStringLiteral("--strength"), QStringLiteral("0.5")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("--strength needs --init-image"));
    r = runCli({QStringLiteral("generate"), QStringLiteral("--prompt"), QStringLiteral("x"), QStringLiteral("--out"), out});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains("--model is required"));
    r = runCli({QStringLiteral("generate"), QStringLiteral("--model"), dir.filePath(QStringLiteral("missing.safetensors")),
                QStringLiteral("--prompt"), QStringLiteral("x"), QStringLiteral("--out"), out});
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.err.contains("missing.safetensors"));
    r = runCli(base + QStringList{QStringLiteral("--init-image"), golden(QStringLiteral("tiny_sd1/model_index.json"))});
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.err.contains("cannot read the init image"));
    QVERIFY(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden | QDir::System).isEmpty());
    // A PNG cut short is refused by Kiln's probe, naming the file, not decoded with a grey bottom.
    {
      QTemporaryDir inputs;
      QImage picture(64, 64, QImage::Format_RGB888);
      picture.fill(Qt::darkCyan);
      QByteArray png;
      QBuffer buffer(&png);
      buffer.open(QIODevice::WriteOnly);
      QVERIFY(picture.save(&buffer, "PNG"));
      const QString cut = inputs.filePath(QStringLiteral("cut.png"));
      QFile file(cut);
      QVERIFY(file.open(QIODevice::WriteOnly));
      file.write(png.left(png.size() - 20));
      file.close();
      r = runCli(base + QStringList{QStringLiteral("--init-image"), cut});
      QCOMPARE(r.exitCode, 1);
      QVERIFY2(r.err.contains("cut.png") && r.err.contains("truncated PNG"), r.err.constData());
      QVERIFY(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden | QDir::System).isEmpty());
    }

    const auto info = runCli({QStringLiteral("png-info"), golden(QStringLiteral("tiny_sd1/model_index.json"))});
    QCOMPARE(info.exitCode, 1);
    QVERIFY(info.err.contains("no parameters"));
  }
};

QTEST_GUILESS_MAIN(TestCliGenerate)
#include "test_cli_generate.moc"
