// A1111's parameters text with ControlNet units, both directions: what sd-webui-controlnet writes
// (ControlNetUnit.serialize) and what Kiln reads back from it.
#include <QCryptographicHash>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include "bridge/generation_parameters.h"
#include "schedulers/scheduler_kind.h"

using kiln::bridge::ControlNetUnitUse;
using kiln::bridge::GenerationParameters;

class TestGenerationParameters : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void hugeProcessorResReadsAsTheDefault() {
    // fuzz_png_parameters' finding: "Processor Res: 5188...82" was cast to int as it stood.
    QFile f(QStringLiteral(KILN_TEST_DATA "/fuzz_regressions/png_parameters_processor_res_5e49.png"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QString text = kiln::bridge::pngParameters(f.readAll());
    QVERIFY(text.contains(QStringLiteral("Processor Res: 5188")));
    const auto unit = kiln::bridge::ControlNetUnitUse::fromText(
        QStringLiteral("Module: canny, Model: x, Weight: 1, Processor Res: 5e49, Threshold A: 100"));
    QVERIFY(unit);
    QCOMPARE(unit->processorRes, -1);
    QCOMPARE(kiln::bridge::ControlNetUnitUse::fromText(QStringLiteral("Module: canny, Processor Res: 512"))->processorRes,
             512);
    (void)GenerationParameters::fromText(text);  // parses without undefined behaviour (UBSan in the fuzz build)
  }

  void anUnclosedLoRATagNeverSwallowsALaterOne() {
    // fuzz_png_parameters' round trip: "<lora:rpiece:1.2)lowres]" left in a prompt, then Kiln's
    // " <lora:f0.8:1>" written after it, read back as one tag "rpiece" and the rest was lost.
    const QString text = QStringLiteral("a cat, <lora:f0.8>, (x:3f,<lora:rpiece:1.2)lowres]\nSteps: 20, Seed: 1");
    const auto p = GenerationParameters::fromText(text);
    QVERIFY(p);
    QCOMPARE(p->loras.size(), 1);
    QCOMPARE(p->loras[0].name, QStringLiteral("f0.8"));
    QCOMPARE(p->prompt, QStringLiteral("a cat,, (x:3f,<lora:rpiece:1.2)lowres]"));
    const QString written = p->toText();
    const auto again = GenerationParameters::fromText(written);
    QVERIFY(again);
    QCOMPARE(again->prompt, p->prompt);
    QCOMPARE(again->loras, p->loras);
    QCOMPARE(again->toText(), written);
    // The fuzzer's input itself (a PNG pasted into a prompt) round-trips the same way.
    QFile f(QStringLiteral(KILN_TEST_DATA "/fuzz_regressions/png_parameters_unclosed_lora_tag.txt"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const auto fuzzed = GenerationParameters::fromText(QString::fromUtf8(f.readAll()));
    QVERIFY(fuzzed);
    QCOMPARE(GenerationParameters::fromText(fuzzed->toText())->toText(), fuzzed->toText());
    // Taking a tag out may join what surrounded it into a new tag: that one is taken too, so a
    // second reading finds nothing new (the fuzzer's round trip found "<lora:<lora:f:0.8>, x>").
    const auto spliced = GenerationParameters::fromText(QStringLiteral("a <lora:<lora:f:0.5>, x>\nSteps: 20"));
    QVERIFY(spliced);
    QCOMPARE(spliced->loras.size(), 2);
    QCOMPARE(spliced->loras[0].name, QStringLiteral("f"));
    QCOMPARE(spliced->loras[0].weight, 0.5);
    QCOMPARE(spliced->prompt, QStringLiteral("a"));
    QCOMPARE(GenerationParameters::fromText(spliced->toText())->loras, spliced->loras);
    // A tag whose name is only spaces stays text (an empty name could not be written back).
    const auto blank = GenerationParameters::fromText(QStringLiteral("a <lora: :1> b\nSteps: 20"));
    QVERIFY(blank);
    QVERIFY(blank->loras.isEmpty());
    QCOMPARE(blank->prompt, QStringLiteral("a <lora: :1> b"));
  }

  void hiresFixIsWrittenAndReadAsA1111Does() {
    // A1111 1.9's txt2img with hires fix.
    const QString a1111 = QStringLiteral(
        "a castle\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1, Size: 512x512, Model hash: 6ce0161689, "
        "Model: v1-5-pruned-emaonly, Denoising strength: 0.55, Clip skip: 1, Hires upscale: 2, Hires steps: 12, "
        "Hires upscaler: Latent (bicubic antialiased), Version: v1.9.0");
    const auto p = GenerationParameters::fromText(a1111);
    QVERIFY(p && p->hires);
    QCOMPARE(p->hires->scale, 2.0);
    QCOMPARE(p->hires->steps, 12);
    QCOMPARE(p->hires->upscaler, QStringLiteral("Latent (bicubic antialiased)"));
    QCOMPARE(*p->denoisingStrength, 0.55);
    QVERIFY(!p->extra.contains(QStringLiteral("Hires upscale")));
    const QString written = p->toText();
    QVERIFY2(
        written.contains(QStringLiteral("Denoising strength: 0.55, Clip skip: 1, Hires upscale: 2, Hires steps: 12, "
                                        "Hires upscaler: Latent (bicubic antialiased)")),
        qPrintable(written));
    QCOMPARE(GenerationParameters::fromText(written)->hires, p->hires);
    // A size instead of a scale.
    const auto resized = GenerationParameters::fromText(
        QStringLiteral("x\nSteps: 20, Seed: 1, Size: 512x512, Hires resize: 1024x768, Hires upscaler: Lanczos"));
    QVERIFY(resized && resized->hires);
    QCOMPARE(resized->hires->resizeX, 1024);
    QCOMPARE(resized->hires->resizeY, 768);
    QVERIFY(resized->toText().contains(QStringLiteral("Hires resize: 1024x768, Hires upscaler: Lanczos")));
    QVERIFY(!resized->toText().contains(QStringLiteral("Hires steps")));
  }

  void fewStepSamplersAndCfgOffAreWrittenAndRead() {
    // The sampler list's names round-trip through the PNG text; guidance 1 (CFG off) is written
    // as A1111 writes it.
    for (const auto kind : kiln::schedulers::kAllSchedulerKinds) {
      GenerationParameters p;
      p.prompt = QStringLiteral("a fox");
      const std::string_view name = kiln::schedulers::display_name(kind);
      p.sampler = QString::fromUtf8(name.data(), static_cast<qsizetype>(name.size()));
      p.steps = 4;
      p.cfgScale = 1.0;
      p.seed = 3;
      p.width = p.height = 512;
      const QString text = p.toText();
      QVERIFY2(text.contains(QStringLiteral("Steps: 4, Sampler: %1, CFG scale: 1, Seed: 3").arg(p.sampler)),
               qPrintable(text));
      const auto back = GenerationParameters::fromText(text);
      QVERIFY(back);
      QCOMPARE(back->sampler, p.sampler);
      QCOMPARE(back->cfgScale, 1.0);
      QVERIFY(kiln::schedulers::parse_scheduler_name(back->sampler.toStdString()) == kind);
    }
    const auto a1111 = GenerationParameters::fromText(
        QStringLiteral("a fox\nSteps: 30, Sampler: DPM++ 2M SDE Karras, CFG scale: 7, Seed: 1, Size: 512x512"));
    QVERIFY(a1111);
    QVERIFY(kiln::schedulers::parse_scheduler_name(a1111->sampler.toStdString()) ==
            kiln::schedulers::SchedulerKind::DPMPP2MSDEKarras);
  }

  void embeddingHashesAreWrittenAndReadAsA1111Does() {
    // A1111 1.7 with an embedding in the prompt and one in the negative prompt.
    const QString a1111 = QStringLiteral(
        "a portrait, style-x\nNegative prompt: EasyNegative\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, "
        "Size: 512x512, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, "
        "TI hashes: \"style-x: 0123456789ab, EasyNegative: c74b4e810b03\", Version: v1.7.0");
    const auto p = GenerationParameters::fromText(a1111);
    QVERIFY(p);
    QCOMPARE(p->embeddings.size(), 2);
    QCOMPARE(p->embeddings[0], (kiln::bridge::EmbeddingUse{QStringLiteral("style-x"), QStringLiteral("0123456789ab")}));
    QCOMPARE(p->embeddings[1],
             (kiln::bridge::EmbeddingUse{QStringLiteral("EasyNegative"), QStringLiteral("c74b4e810b03")}));
    QVERIFY(!p->extra.contains(QStringLiteral("TI hashes")));
    const QString written = p->toText();
    QVERIFY2(written.contains(QStringLiteral("TI hashes: \"style-x: 0123456789ab, EasyNegative: c74b4e810b03\"")),
             qPrintable(written));
    QCOMPARE(GenerationParameters::fromText(written)->embeddings, p->embeddings);
    // ':' and ',' are dropped from names, as A1111 does; no hashes, no key.
    GenerationParameters q;
    q.embeddings << kiln::bridge::EmbeddingUse{QStringLiteral("a:b,c"), QStringLiteral("ffffffffffff")};
    QVERIFY2(q.toText().contains(QStringLiteral("TI hashes: \"abc: ffffffffffff\"")), qPrintable(q.toText()));
    QVERIFY(!GenerationParameters{}.toText().contains(QStringLiteral("TI hashes")));
  }

  void unitsAreWrittenAsA1111WritesThem() {
    GenerationParameters p;
    p.prompt = QStringLiteral("a house");
    p.steps = 10;
    p.sampler = QStringLiteral("DDIM");
    p.seed = 5;
    p.width = p.height = 64;
    p.modelName = QStringLiteral("tiny_sd1");
    ControlNetUnitUse canny;
    canny.model = QStringLiteral("control_v11p_sd15_canny [d14c016b]");
    ControlNetUnitUse depth;
    depth.model = QStringLiteral("control_v11f1p_sd15_depth [cfd03158]");
    depth.weight = 0.6;
    depth.guidanceStart = 0.2;
    depth.guidanceEnd = 0.825;
    depth.controlMode = QStringLiteral("My prompt is more important");
    depth.resizeMode = QStringLiteral("Just Resize");
    p.controlNets = {canny, depth};
    QCOMPARE(p.toText(),
             QStringLiteral("a house\nSteps: 10, Sampler: DDIM, CFG scale: 7, Seed: 5, Size: 64x64, Model: tiny_sd1, "
                            "Clip skip: 1, "
                            "ControlNet 0: \"Module: none, Model: control_v11p_sd15_canny [d14c016b], Weight: 1.0, "
                            "Resize Mode: Crop and Resize, Processor Res: 512, Threshold A: 0.5, Threshold B: 0.5, "
                            "Guidance Start: 0.0, Guidance End: 1.0, Pixel Perfect: False, Control Mode: Balanced\", "
                            "ControlNet 1: \"Module: none, Model: control_v11f1p_sd15_depth [cfd03158], Weight: 0.6, "
                            "Resize Mode: Just Resize, Processor Res: 512, Threshold A: 0.5, Threshold B: 0.5, "
                            "Guidance Start: 0.2, Guidance End: 0.825, Pixel Perfect: False, Control Mode: My prompt "
                            "is more important\""));
    const auto back = GenerationParameters::fromText(p.toText());
    QVERIFY(back.has_value());
    QCOMPARE(back->controlNets, p.controlNets);
    QVERIFY(back->extra.isEmpty());
  }

  void unitsWrittenByA1111AreRestored() {
    // As sd-webui-controlnet 1.1.4xx writes them: a canny unit, other keys after it, and its
    // older versions' extra fields (Low Vram, Hr Option, ...), which Kiln ignores.
    const QString text = QStringLiteral(
        "masterpiece, a cat\nNegative prompt: blurry\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1, "
        "Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, "
        "ControlNet 1: \"Module: openpose_full, Model: control_v11p_sd15_openpose [cab727d4], Weight: 1, Resize Mode: "
        "Resize and Fill, Low Vram: False, Processor Res: 512, Threshold A: -1, Threshold B: -1, Guidance Start: 0, "
        "Guidance End: 1, Pixel Perfect: True, Control Mode: ControlNet is more important, Hr Option: Both\", "
        "ControlNet 0: \"Module: canny, Model: control_v11p_sd15_canny [d14c016b], Weight: 0.75, Resize Mode: Crop "
        "and Resize, Processor Res: 512, Threshold A: 100.0, Threshold B: 200.0, Guidance Start: 0.1, Guidance End: "
        "0.9, Pixel Perfect: False, Control Mode: Balanced\", Version: v1.9.4");
    const auto p = GenerationParameters::fromText(text);
    QVERIFY(p.has_value());
    QCOMPARE(p->controlNets.size(), 2);
    const ControlNetUnitUse& canny = p->controlNets[0];
    QCOMPARE(canny.module, QStringLiteral("canny"));
    QCOMPARE(canny.model, QStringLiteral("control_v11p_sd15_canny [d14c016b]"));
    QCOMPARE(canny.weight, 0.75);
    QCOMPARE(canny.resizeMode, QStringLiteral("Crop and Resize"));
    QCOMPARE(canny.thresholdA, 100.0);
    QCOMPARE(canny.thresholdB, 200.0);
    QCOMPARE(canny.guidanceStart, 0.1);
    QCOMPARE(canny.guidanceEnd, 0.9);
    QCOMPARE(canny.pixelPerfect, false);
    QCOMPARE(canny.controlMode, QStringLiteral("Balanced"));
    const ControlNetUnitUse& pose = p->controlNets[1];
    QCOMPARE(pose.module, QStringLiteral("openpose_full"));
    QCOMPARE(pose.weight, 1.0);
    QCOMPARE(pose.resizeMode, QStringLiteral("Resize and Fill"));
    QCOMPARE(pose.pixelPerfect, true);
    QCOMPARE(pose.controlMode, QStringLiteral("ControlNet is more important"));
    QCOMPARE(p->extra, (QMap<QString, QString>{{QStringLiteral("Version"), QStringLiteral("v1.9.4")}}));
    QCOMPARE(p->negativePrompt, QStringLiteral("blurry"));
  }

  void preprocessedUnitsRoundTrip() {
    // What kiln-cli generate --control-module writes: the unit's real module, resize mode,
    // resolution, sliders and Pixel Perfect.
    GenerationParameters p;
    p.prompt = QStringLiteral("a street");
    p.width = 64;
    p.height = 64;
    ControlNetUnitUse canny;
    canny.module = QStringLiteral("canny");
    canny.model = QStringLiteral("model [fea4b5d4]");
    canny.resizeMode = QStringLiteral("Resize and Fill");
    canny.processorRes = 43;
    canny.thresholdA = 50;
    canny.thresholdB = 150;
    canny.pixelPerfect = true;
    ControlNetUnitUse depth;
    depth.module = QStringLiteral("depth_anything_v2");
    depth.model = QStringLiteral("control_v11f1p_sd15_depth [cfd03158]");
    depth.resizeMode = QStringLiteral("Just Resize");
    depth.processorRes = 384;
    depth.thresholdA = 0.5;  // a preprocessor without sliders keeps the defaults
    ControlNetUnitUse blur;
    blur.module = QStringLiteral("blur_gaussian");
    blur.model = QStringLiteral("control_v11f1e_sd15_tile [a371b31b]");
    blur.thresholdA = 9.25;
    p.controlNets = {canny, depth, blur};
    const QString text = p.toText();
    QVERIFY2(text.contains(QStringLiteral(
                 "ControlNet 0: \"Module: canny, Model: model [fea4b5d4], Weight: 1.0, Resize Mode: Resize and Fill, "
                 "Processor Res: 43, Threshold A: 50.0, Threshold B: 150.0, Guidance Start: 0.0, Guidance End: 1.0, "
                 "Pixel Perfect: True, Control Mode: Balanced\"")),
             qPrintable(text));
    QVERIFY(text.contains(QStringLiteral("Module: depth_anything_v2, ")));
    // Python's str() of whole and large values, as sd-webui-controlnet writes them.
    ControlNetUnitUse scaled = canny;
    scaled.thresholdA = 1e-5;
    scaled.thresholdB = 1.5e16;
    scaled.weight = 2;
    QVERIFY2(scaled.toText().contains(QStringLiteral("Weight: 2.0, ")), qPrintable(scaled.toText()));
    QVERIFY2(scaled.toText().contains(QStringLiteral("Threshold A: 1e-05, Threshold B: 1.5e+16, ")),
             qPrintable(scaled.toText()));
    QVERIFY(text.contains(QStringLiteral("Processor Res: 512, Threshold A: 9.25, Threshold B: 0.5")));
    const auto back = GenerationParameters::fromText(text);
    QVERIFY(back.has_value());
    QCOMPARE(back->controlNets, p.controlNets);
  }

  void olderResizeModeNamesAreReadAsTodays_data() {
    QTest::addColumn<QString>("written");
    QTest::addColumn<QString>("read");
    QTest::newRow("today") << QStringLiteral("Resize and Fill") << QStringLiteral("Resize and Fill");
    QTest::newRow("enum") << QStringLiteral("ResizeMode.INNER_FIT") << QStringLiteral("Crop and Resize");
    QTest::newRow("enum field") << QStringLiteral("RESIZE") << QStringLiteral("Just Resize");
    QTest::newRow("api index") << QStringLiteral("2") << QStringLiteral("Resize and Fill");
    QTest::newRow("first versions inner")
        << QStringLiteral("Scale to Fit (Inner Fit)") << QStringLiteral("Crop and Resize");
    QTest::newRow("first versions outer")
        << QStringLiteral("Envelope (Outer Fit)") << QStringLiteral("Resize and Fill");
    QTest::newRow("unknown kept") << QStringLiteral("Stretch Somehow") << QStringLiteral("Stretch Somehow");
  }
  void olderResizeModeNamesAreReadAsTodays() {
    QFETCH(QString, written);
    QFETCH(QString, read);
    const auto unit = ControlNetUnitUse::fromText(QStringLiteral("Module: canny, Model: m [00000000], Resize Mode: ") +
                                                  written + QStringLiteral(", Processor Res: 768"));
    QVERIFY(unit.has_value());
    QCOMPARE(unit->resizeMode, read);
    QCOMPARE(unit->processorRes, 768);
    QCOMPARE(unit->module, QStringLiteral("canny"));
  }

  void aMalformedUnitStaysAsText() {
    const auto p = GenerationParameters::fromText(
        QStringLiteral("x\nSteps: 2, Seed: 1, ControlNet 0: \"preprocessor canny, weight high\""));
    QVERIFY(p.has_value());
    QVERIFY(p->controlNets.isEmpty());
    QCOMPARE(p->extra.value(QStringLiteral("ControlNet 0")), QStringLiteral("preprocessor canny, weight high"));
  }

  void legacyHashReadsThe64KiBAtOneMiB() {
    QTemporaryDir dir;
    const QString small = dir.filePath(QStringLiteral("small.safetensors"));
    QFile f(small);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(1000, 'x'));
    f.close();
    QCOMPARE(kiln::bridge::legacyModelHash(small), QStringLiteral("e3b0c442"));  // sha256 of nothing
    const QString big = dir.filePath(QStringLiteral("big.safetensors"));
    QFile g(big);
    QVERIFY(g.open(QIODevice::WriteOnly));
    g.write(QByteArray(0x100000, 'a'));
    g.write(QByteArray(0x10000, 'b'));
    g.write(QByteArray(10, 'c'));  // beyond the block: not hashed
    g.close();
    const QString expected = QString::fromLatin1(
        QCryptographicHash::hash(QByteArray(0x10000, 'b'), QCryptographicHash::Sha256).toHex().left(8));
    QCOMPARE(kiln::bridge::legacyModelHash(big), expected);
    QCOMPARE(kiln::bridge::legacyModelHash(dir.path()), expected);  // a folder: its weights file (safetensors, by name)
    QVERIFY(kiln::bridge::legacyModelHash(dir.filePath(QStringLiteral("absent"))).isEmpty());
  }
};

QTEST_GUILESS_MAIN(TestGenerationParameters)
#include "test_generation_parameters.moc"
