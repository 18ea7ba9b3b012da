// kiln-cli info on every golden key list (as sparse full-size files: real names and shapes,
// no data on disk), on the tiny pipeline in both layouts, and on broken input.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include <filesystem>

#include "app/cli/cli_runner.h"
#include "base/build_config.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using kiln::test::data_dir;

namespace {

using kiln::test::CliResult;
using kiln::test::fileBytes;
using kiln::test::q;
using kiln::test::runCli;

fs::path keys(const std::string& model) { return data_dir() / "golden/keys" / model; }

// A diffusers folder of sparse weights from the golden per-component key lists.
void makeDiffusersFolder(const fs::path& root, const std::string& model, const std::string& pipelineClass,
                         const std::map<std::string, std::string>& components, const std::string& prediction) {
  fs::create_directories(root / "scheduler");
  std::string index = "{\"_class_name\": \"" + pipelineClass + "\", \"_diffusers_version\": \"0.32.2\"";
  index += ", \"scheduler\": [\"diffusers\", \"EulerDiscreteScheduler\"]";
  for (const auto& [name, cls] : components) {
    const std::string lib = cls.rfind("CLIP", 0) == 0 ? "transformers" : "diffusers";
    index += ", \"" + name + "\": [\"" + lib + "\", \"" + cls + "\"]";
    fs::create_directories(root / name);
    kiln::test::write_text(root / name / "config.json", "{\"_class_name\": \"" + cls + "\"}");
    const std::string file = lib == "transformers" ? "model.safetensors" : "diffusion_pytorch_model.safetensors";
    kiln::test::write_sparse_safetensors(root / name / file,
                                         kiln::test::read_key_list(keys(model) / ("diffusers_" + name + ".txt"), kiln::DType::F16));
  }
  index += ", \"safety_checker\": [null, null]}";
  kiln::test::write_text(root / "model_index.json", index);
  kiln::test::write_text(root / "scheduler/scheduler_config.json",
                         "{\"_class_name\": \"EulerDiscreteScheduler\", \"prediction_type\": \"" + prediction + "\"}");
}

}  // namespace

class TestCliInfo : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { QVERIFY(fs::exists(KILN_CLI)); }

  void goldenKeyLists_data() {
    QTest::addColumn<QString>("kind");  // "single" or "folder"
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("family");
    QTest::addColumn<QString>("layout");
    QTest::addColumn<QString>("prediction");
    QTest::newRow("sd15 single file") << "single" << "sd15" << "sd1" << "single_file" << "unknown";
    QTest::newRow("sd21 single file") << "single" << "sd21" << "sd2" << "single_file" << "unknown";
    QTest::newRow("sdxl single file") << "single" << "sdxl_base" << "sdxl" << "single_file" << "unknown";
    QTest::newRow("controlnet single file") << "single" << "controlnet_sd15" << "controlnet_sd1" << "single_file" << "unknown";
    QTest::newRow("sd15 folder") << "folder" << "sd15" << "sd1" << "diffusers" << "epsilon";
    QTest::newRow("sd21 folder") << "folder" << "sd21" << "sd2" << "diffusers" << "v_prediction";
    QTest::newRow("sdxl folder") << "folder" << "sdxl_base" << "sdxl" << "diffusers" << "epsilon";
    QTest::newRow("controlnet folder") << "folder" << "controlnet_sd15" << "controlnet_sd1" << "diffusers" << "unknown";
  }

  void goldenKeyLists() {
    QFETCH(QString, kind);
    QFETCH(QString, model);
    QFETCH(QString, family);
    QFETCH(QString, layout);
    QFETCH(QString, prediction);
    kiln::test::ScratchDir dir;
    const std::string m = model.toStdString();
    fs::path target;
    if (kind == QLatin1String("single")) {
      target = dir / (m + ".safetensors");
      kiln::test::write_sparse_safetensors(target, kiln::test::read_key_list(keys(m) / "original_single_file.txt", kiln::DType::F16));
    } else if (m == "controlnet_sd15") {
      target = dir / "controlnet";
      fs::create_directories(target);
      kiln::test::write_text(target / "config.json", "{\"_class_name\": \"ControlNetModel\"}");
      kiln::test::write_sparse_safetensors(target / "diffusion_pytorch_model.safetensors",
                                           kiln::test::read_key_list(keys(m) / "diffusers_controlnet.txt", kiln::DType::F16));
    } else {
      target = dir / m;
      std::map<std::string, std::string> components = {
          {"unet", "UNet2DConditionModel"}, {"vae", "AutoencoderKL"}, {"text_encoder", "CLIPTextModel"}};
      if (m == "sdxl_base") components["text_encoder_2"] = "CLIPTextModelWithProjection";
      makeDiffusersFolder(target, m, m == "sdxl_base" ? "StableDiffusionXLPipeline" : "StableDiffusionPipeline", components,
                          m == "sd21" ? "v_prediction" : "epsilon");
    }
    const auto r = runCli({QStringLiteral("info"), QStringLiteral("--json"), QStringLiteral("--no-hash"), q(target)});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    const QJsonObject j = r.json();
    QCOMPARE(j.value("family").toString(), family);
    QCOMPARE(j.value("layout").toString(), layout);
    QCOMPARE(j.value("prediction_type").toString(), prediction);
    QVERIFY(j.value("sha256").isNull());
    QVERIFY(!j.value("components").toArray().isEmpty());
    // Parameter counts add up to the reference's (meta.json num_params) for the components.
    if (kind == QLatin1String("folder") && m != "controlnet_sd15") {
      const QJsonObject meta =
          QJsonDocument::fromJson(QByteArray::fromStdString(kiln::test::read_text(keys(m) / "meta.json"))).object();
      const QJsonObject params = meta.value("num_params").toObject();
      for (const auto& c : j.value("components").toArray()) {
        const QString name = c.toObject().value("name").toString();
        QCOMPARE(c.toObject().value("parameters").toInteger(), params.value(name).toInteger());
        QVERIFY(c.toObject().value("dtypes").toObject().contains("F16"));
      }
    }
  }

  void tinyPipelineBothLayouts() {
    const fs::path folder = data_dir() / "golden/pipeline/tiny_sd1";
    auto r = runCli({QStringLiteral("info"), QStringLiteral("--json"), q(folder)});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QJsonObject j = r.json();
    QCOMPARE(j.value("family").toString(), QStringLiteral("sd1"));
    QCOMPARE(j.value("layout").toString(), QStringLiteral("diffusers"));
    QCOMPARE(j.value("format").toString(), QStringLiteral("diffusers"));
    QCOMPARE(j.value("prediction_type").toString(), QStringLiteral("epsilon"));
    QCOMPARE(j.value("components").toArray().size(), 3);
    QCOMPARE(j.value("sha256").toString().size(), 64);

    const fs::path file = data_dir() / "golden/pipeline/tiny_sd1.safetensors";
    r = runCli({QStringLiteral("info"), QStringLiteral("--json"), q(file)});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    j = r.json();
    QCOMPARE(j.value("family").toString(), QStringLiteral("sd1"));
    QCOMPARE(j.value("layout").toString(), QStringLiteral("single_file"));
    QCOMPARE(j.value("format").toString(), QStringLiteral("safetensors"));
    QCOMPARE(j.value("prediction_type").toString(), QStringLiteral("unknown"));
    // sha256 from ../shared/golden/MANIFEST.json; A1111's short hash is its first 10 digits.
    QCOMPARE(j.value("sha256").toString(), QStringLiteral("fbecea6473ec34a8b6e412122fe6cad99de33b69b8e8e0bf0e1cdb9c06f39852"));
    QCOMPARE(j.value("short_hash").toString(), QStringLiteral("fbecea6473"));
    QStringList names;
    for (const auto& c : j.value("components").toArray()) names << c.toObject().value("name").toString();
    QVERIFY(names.contains("unet") && names.contains("vae") && names.contains("text_encoder"));
    for (const auto& c : j.value("components").toArray()) {
      QVERIFY(c.toObject().value("dtypes").toObject().contains("F16"));
    }

    // The human-readable form names the family and the hash.
    r = runCli({QStringLiteral("info"), q(file)});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("Stable Diffusion 1.x (sd1)"));
    QVERIFY(r.out.contains("A1111 hash:  fbecea6473"));
  }

  void predictionTypeFromYamlAndMetadata() {
    kiln::test::ScratchDir dir;
    const fs::path file = dir / "sd21-768.safetensors";
    kiln::test::write_sparse_safetensors(file, kiln::test::read_key_list(keys("sd21") / "original_single_file.txt", kiln::DType::F16));
    kiln::test::write_text(dir / "sd21-768.yaml", "model:\n  params:\n    parameterization: \"v\"\n");
    auto r = runCli({QStringLiteral("info"), QStringLiteral("--json"), QStringLiteral("--no-hash"), q(file)});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QCOMPARE(r.json().value("prediction_type").toString(), QStringLiteral("v_prediction"));
    QVERIFY(r.json().value("prediction_type_source").toString().contains("sd21-768.yaml"));

    const fs::path meta = dir / "with-meta.safetensors";
    kiln::test::write_sparse_safetensors(meta, kiln::test::read_key_list(keys("sd15") / "original_single_file.txt", kiln::DType::F16),
                                         R"({"modelspec.prediction_type": "epsilon", "ss_base_model": "sd15"})");
    r = runCli({QStringLiteral("info"), QStringLiteral("--json"), QStringLiteral("--no-hash"), q(meta)});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QCOMPARE(r.json().value("prediction_type").toString(), QStringLiteral("epsilon"));
    QCOMPARE(r.json().value("metadata").toObject().value("ss_base_model").toString(), QStringLiteral("sd15"));
  }

  void errorsAreOneLineOnStderr_data() {
    QTest::addColumn<QString>("content");
    QTest::addColumn<QString>("expected");
    QTest::newRow("garbage") << "this is not a model" << "not a safetensors file or corrupt";
    QTest::newRow("bad header") << QString::fromLatin1("\x10\x00\x00\x00\x00\x00\x00\x00{\"a\": oops}    ", 24)
                                << "header is not valid JSON";
    QTest::newRow("no model keys") << QString() << "none of the keys Kiln looks for";
  }

  void errorsAreOneLineOnStderr() {
    QFETCH(QString, content);
    QFETCH(QString, expected);
    kiln::test::ScratchDir dir;
    const fs::path file = dir / "broken.safetensors";
    if (content.isEmpty()) {
      kiln::io::TensorIndex index;
      kiln::io::TensorEntry e;
      e.name = "some.unrelated.weight";
      e.shape = {3, 3};
      index.add(e);
      kiln::test::write_sparse_safetensors(file, index);
    } else {
      kiln::test::write_text(file, content.toLatin1().toStdString());
    }
    const auto r = runCli({QStringLiteral("info"), q(file)});
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.out.isEmpty());
    QCOMPARE(r.err.count('\n'), 1);
    QVERIFY2(r.err.startsWith("kiln-cli: error: "), r.err.constData());
    QVERIFY2(r.err.contains(file.string().c_str()), r.err.constData());
    QVERIFY2(r.err.contains(expected.toUtf8()), r.err.constData());
  }

  void usage() {
    auto r = runCli({QStringLiteral("info")});
    QCOMPARE(r.exitCode, 2);
    r = runCli({QStringLiteral("info"), QStringLiteral("/no/such/model.safetensors")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.err.contains("no such file or folder"));
    r = runCli({QStringLiteral("frobnicate")});
    QCOMPARE(r.exitCode, 2);
    r = runCli({QStringLiteral("--help")});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("info PATH"));
  }

  // --version: Kiln, the LibTorch it was built against and whether that has CUDA, the CPU
  // kernels and whether it computes bf16 natively, and the GPUs or why there are none (on a machine without a driver it still starts).
  void version() {
    const auto r = runCli({QStringLiteral("--version")});
    QCOMPARE(r.exitCode, 0);
    const QList<QByteArray> lines = r.out.trimmed().split('\n');
    QVERIFY2(lines.size() >= 4, r.out.constData());
    QCOMPARE(lines[0], QByteArray("kiln-cli " KILN_VERSION_STRING));
    QVERIFY2(lines[1].startsWith("LibTorch " KILN_LIBTORCH_VERSION_STRING ", "), lines[1].constData());
#if KILN_TORCH_CUDA
    QVERIFY2(lines[1].contains(", built with CUDA 1") && lines[1].contains(" and cuDNN 9."), lines[1].constData());
#else
    QVERIFY2(lines[1].endsWith(", CPU only"), lines[1].constData());
#endif
    QVERIFY2(lines[2].startsWith("CPU: ") && lines[2].contains(" kernels"), lines[2].constData());
    // Whether bf16 is computed natively, and why (the instructions found or missing).
    QVERIFY2(lines[2].contains(", native bf16 (") || lines[2].contains(", no native bf16 ("), lines[2].constData());
    QVERIFY2(lines[3].startsWith("GPU: no CUDA device") || lines[3].startsWith("CUDA device 0: "), lines[3].constData());
    QVERIFY(r.err.isEmpty());  // the missing driver is reported, not warned about
  }
};

QTEST_GUILESS_MAIN(TestCliInfo)
#include "test_cli_info.moc"
