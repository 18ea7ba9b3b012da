#pragma once
// Which language the interface speaks: `--lang`, then $KILN_LANG, then the setting, then the
// system's. Translations are compiled into the app (:/i18n/kiln_<code>.qm).

#include <QList>
#include <QPair>
#include <QString>

namespace kiln::app {

class Language {
 public:
  // The first non-empty of the arguments and $KILN_LANG; "" means the system's language.
  static QString choose(const QString& commandLine, const QString& setting);
  // Installs Kiln's translation (and Qt's own, when the system has it) for `code` ("de",
  // "de_AT"; "" = the system's UI languages) on the application. Returns false when the
  // interface stays English (asked for, or no translation for the language).
  static bool install(const QString& code);
  // Code and name (in its own language) of every language Kiln speaks, English first.
  static QList<QPair<QString, QString>> available();
};

}  // namespace kiln::app
