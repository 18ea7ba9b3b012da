#pragma once
// Light and dark looks on the Fusion style. "System" keeps the platform's palette, and picks
// the dark one where the desktop asks for dark (a dark platform palette, or GTK_THEME=…:dark).

#include <QColor>
#include <QIcon>
#include <QPalette>
#include <QString>

namespace kiln::widgets {

class Theme {
 public:
  enum class Scheme { System, Light, Dark };

  static Scheme schemeFromString(const QString& name);  // "system", "light", "dark"
  static QString toString(Scheme scheme);

  // Sets the Fusion style and the palette for `scheme` on the application.
  static void apply(Scheme scheme);
  static bool isDark(const QPalette& palette);
  static QPalette lightPalette();
  static QPalette darkPalette();

  // A one-colour SVG icon redrawn in `color` at the usual sizes (toolbar and menu icons that
  // follow the palette's text colour).
  static QIcon tinted(const QString& svgPath, const QColor& color);
};

}  // namespace kiln::widgets
