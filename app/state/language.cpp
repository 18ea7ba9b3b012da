#include "state/language.h"

#include <QCoreApplication>
#include <QDir>
#include <QLibraryInfo>
#include <QLocale>
#include <QTranslator>

namespace kiln::app {

QString Language::choose(const QString& commandLine, const QString& setting) {
  if (!commandLine.isEmpty()) return commandLine;
  const QString env = qEnvironmentVariable("KILN_LANG");
  if (!env.isEmpty()) return env;
  return setting;
}

bool Language::install(const QString& code) {
  auto* app = QCoreApplication::instance();
  const QLocale locale = code.isEmpty() ? QLocale::system() : QLocale(code);
  auto* kiln = new QTranslator(app);
  // Without a translation for the language, English it is: kiln_en only holds its plural forms.
  if (!kiln->load(locale, QStringLiteral("kiln"), QStringLiteral("_"), QStringLiteral(":/i18n")) &&
      !kiln->load(QStringLiteral(":/i18n/kiln_en.qm"))) {
    delete kiln;
    return false;
  }
  QCoreApplication::installTranslator(kiln);
  if (kiln->language().startsWith(QLatin1String("en"))) return false;

  // Qt's own dialogs (file chooser, message box buttons) when the system has qt6-translations.
  auto* qt = new QTranslator(app);
  if (qt->load(locale, QStringLiteral("qtbase"), QStringLiteral("_"),
               QLibraryInfo::path(QLibraryInfo::TranslationsPath))) {
    QCoreApplication::installTranslator(qt);
  } else {
    delete qt;
  }
  QLocale::setDefault(locale);
  return true;
}

QList<QPair<QString, QString>> Language::available() {
  QList<QPair<QString, QString>> out{{QStringLiteral("en"), QStringLiteral("English")}};
  const QStringList files = QDir(QStringLiteral(":/i18n")).entryList({QStringLiteral("kiln_*.qm")}, QDir::Files, QDir::Name);
  for (const QString& file : files) {
    const QString code = file.mid(5, file.size() - 8);
    if (code == QLatin1String("en")) continue;
    const QLocale locale(code);
    QString name = locale.nativeLanguageName();
    if (!name.isEmpty()) name[0] = name[0].toUpper();
    out.append({code, name});
  }
  return out;
}

}  // namespace kiln::app
