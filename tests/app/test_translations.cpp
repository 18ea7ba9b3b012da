// The German translation: complete (every message of kiln_de.ts finished and found at run
// time in the embedded .qm) and used by the pages.
#include <QFile>
#include <QMenuBar>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QPushButton>
#include <QXmlStreamReader>
#include <QtTest>

#include <memory>

#include "main_window.h"
#include "pages/generate_page.h"
#include "pages/model_list_model.h"
#include "pages/models_page.h"
#include "services/model_library.h"
#include "state/app_settings.h"
#include "state/language.h"
#include "widgets/empty_state.h"

using kiln::app::Language;

namespace {

struct Message {
  QString context;
  QString source;
  QString comment;
  bool numerus = false;
  bool finished = true;
  QStringList translations;
};

QList<Message> readTs(const QString& file) {
  QFile f(file);
  if (!f.open(QIODevice::ReadOnly)) return {};
  QXmlStreamReader xml(&f);
  QList<Message> out;
  QString context;
  Message m;
  while (!xml.atEnd()) {
    xml.readNext();
    if (!xml.isStartElement()) continue;
    const auto name = xml.name();
    if (name == QLatin1String("context")) {
      context.clear();
    } else if (name == QLatin1String("name") && context.isEmpty()) {
      context = xml.readElementText();
    } else if (name == QLatin1String("message")) {
      m = Message{context, {}, {}, xml.attributes().value(QLatin1String("numerus")) == QLatin1String("yes"), true, {}};
    } else if (name == QLatin1String("source")) {
      m.source = xml.readElementText();
    } else if (name == QLatin1String("comment")) {
      m.comment = xml.readElementText();
    } else if (name == QLatin1String("translation")) {
      const auto type = xml.attributes().value(QLatin1String("type"));
      m.finished = type != QLatin1String("unfinished") && type != QLatin1String("vanished") && type != QLatin1String("obsolete");
      if (!m.numerus) {
        m.translations << xml.readElementText();
        out << m;
      }
    } else if (name == QLatin1String("numerusform")) {
      m.translations << xml.readElementText();
      if (m.translations.size() == 2) out << m;  // German has two plural forms
    }
  }
  return out;
}

}  // namespace

class TestTranslations : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void everyMessageIsTranslatedAndLoaded();
  void pagesSpeakGerman();
  void offersGerman();
  void germanGenerateFormIsNotCut();

 private:
  std::unique_ptr<QTemporaryDir> mDir;
};

void TestTranslations::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);
  mDir = std::make_unique<QTemporaryDir>();
  QVERIFY(Language::install(QStringLiteral("de")));
}

void TestTranslations::everyMessageIsTranslatedAndLoaded() {
  const QList<Message> messages = readTs(QStringLiteral(KILN_TS_DE));
  QVERIFY2(messages.size() > 100, "kiln_de.ts is missing or nearly empty");
  int checked = 0;
  for (const Message& m : messages) {
    const QByteArray context = m.context.toUtf8();
    const QByteArray source = m.source.toUtf8();
    const QByteArray comment = m.comment.toUtf8();
    QVERIFY2(m.finished, qPrintable(m.context + QStringLiteral(": unfinished: ") + m.source));
    for (const QString& t : m.translations) {
      QVERIFY2(!t.isEmpty(), qPrintable(m.context + QStringLiteral(": empty translation: ") + m.source));
    }
    if (m.numerus) {
      for (int n : {1, 2}) {
        QString expected = m.translations.at(n == 1 ? 0 : 1);
        expected.replace(QStringLiteral("%n"), QString::number(n));
        const QString got = QCoreApplication::translate(context.constData(), source.constData(),
                                                        comment.isEmpty() ? nullptr : comment.constData(), n);
        QCOMPARE(got, expected);
      }
    } else {
      const QString got = QCoreApplication::translate(context.constData(), source.constData(),
                                                      comment.isEmpty() ? nullptr : comment.constData());
      QCOMPARE(got, m.translations.front());
    }
    ++checked;
  }
  qInfo("%d messages checked", checked);
}

void TestTranslations::pagesSpeakGerman() {
  kiln::app::AppSettings settings(mDir->filePath(QStringLiteral("settings.ini")));
  kiln::app::MainWindow window(&settings);
  auto* page = window.modelsPage();
  QCOMPARE(page->listModel()->headerData(kiln::app::ModelListModel::Family, Qt::Horizontal).toString(),
           QStringLiteral("Familie"));
  QCOMPARE(page->listModel()->headerData(kiln::app::ModelListModel::Size, Qt::Horizontal).toString(),
           QStringLiteral("Größe"));
  const auto* empty = page->findChild<kiln::widgets::EmptyState*>(QStringLiteral("noFoldersState"));
  QCOMPARE(empty->title(), QStringLiteral("Modellordner hinzufügen"));
  // The Get Models pieces (issue 16).
  QCOMPARE(empty->findChild<QPushButton*>(QStringLiteral("emptyStateSecondaryAction"))->text(),
           QStringLiteral("Stable Diffusion 1.5 holen (2.1 GB)"));
  QCOMPARE(page->getModelsAction()->text(), QStringLiteral("Modelle &holen…"));
  QVERIFY(page->addFolderAction()->text().contains(QStringLiteral("Modellordner")));
  QStringList menus;
  for (QAction* a : window.menuBar()->actions()) menus << a->text();
  QCOMPARE(menus, (QStringList{QStringLiteral("&Datei"), QStringLiteral("&Ansicht"), QStringLiteral("&Hilfe")}));
}

void TestTranslations::offersGerman() {
  const auto languages = Language::available();
  bool german = false;
  for (const auto& [code, name] : languages) german = german || (code == QLatin1String("de") && name == QLatin1String("Deutsch"));
  QVERIFY(german);
}

// German labels and placeholders are longer: at 1280x800 the Generate page's settings form once
// needed more width than its panel had, and its right edge was cut (the model combo sized itself to
// its whole placeholder; the scroll area has no horizontal bar).
void TestTranslations::germanGenerateFormIsNotCut() {
  kiln::app::AppSettings settings(mDir->filePath(QStringLiteral("generate.ini")));
  kiln::app::MainWindow window(&settings);
  window.resize(1280, 800);
  window.showPage(QStringLiteral("generate"));
  window.show();
  QVERIFY(QTest::qWaitForWindowExposed(&window));
  QCoreApplication::processEvents();
  auto* form = window.generatePage()->findChild<QWidget*>(QStringLiteral("generationForm"));
  QVERIFY(form);
  QVERIFY(form->isVisible());
  // The form lives in a scroll area's viewport; a form wider than the viewport is cut off.
  const QWidget* viewport = form->parentWidget();
  QVERIFY(viewport);
  const int needed = form->minimumSizeHint().width();
  QVERIFY2(viewport->width() >= needed,
           qPrintable(QStringLiteral("the form needs %1 px, its panel shows %2").arg(needed).arg(viewport->width())));
  QVERIFY2(viewport->width() < window.width() / 3,
           qPrintable(QStringLiteral("the settings panel took %1 of %2 px").arg(viewport->width()).arg(window.width())));
}

QTEST_MAIN(TestTranslations)
#include "test_translations.moc"
