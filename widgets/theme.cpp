#include "widgets/theme.h"

#include <QApplication>
#include <QPainter>
#include <QPixmap>
#include <QStyle>
#include <QStyleFactory>

namespace kiln::widgets {

namespace {

// The platform's palette, captured before Kiln sets one of its own.
const QPalette& systemPalette() {
  static const QPalette palette = QApplication::palette();
  return palette;
}

bool systemPrefersDark() {
  if (qEnvironmentVariable("GTK_THEME").endsWith(QLatin1String(":dark"), Qt::CaseInsensitive)) return true;
  return Theme::isDark(systemPalette());
}

}  // namespace

Theme::Scheme Theme::schemeFromString(const QString& name) {
  if (name == QLatin1String("light")) return Scheme::Light;
  if (name == QLatin1String("dark")) return Scheme::Dark;
  return Scheme::System;
}

QString Theme::toString(Scheme scheme) {
  switch (scheme) {
    case Scheme::Light: return QStringLiteral("light");
    case Scheme::Dark: return QStringLiteral("dark");
    case Scheme::System: break;
  }
  return QStringLiteral("system");
}

void Theme::apply(Scheme scheme) {
  systemPalette();
  if (auto* fusion = QStyleFactory::create(QStringLiteral("Fusion"))) QApplication::setStyle(fusion);
  bool dark = scheme == Scheme::Dark;
  if (scheme == Scheme::System) dark = systemPrefersDark();
  if (dark) QApplication::setPalette(darkPalette());
  else if (scheme == Scheme::Light || isDark(systemPalette())) QApplication::setPalette(lightPalette());
  else QApplication::setPalette(systemPalette());
}

bool Theme::isDark(const QPalette& palette) {
  return palette.color(QPalette::Window).lightness() < palette.color(QPalette::WindowText).lightness();
}

QPalette Theme::lightPalette() {
  QPalette p = QApplication::style()->standardPalette();
  const QColor accent(0x2f, 0x6f, 0xd1);
  p.setColor(QPalette::Window, QColor(0xf3, 0xf3, 0xf4));
  p.setColor(QPalette::Base, Qt::white);
  p.setColor(QPalette::AlternateBase, QColor(0xf6, 0xf7, 0xf9));
  p.setColor(QPalette::Highlight, accent);
  p.setColor(QPalette::HighlightedText, Qt::white);
  p.setColor(QPalette::Link, accent);
  p.setColor(QPalette::PlaceholderText, QColor(0x6b, 0x70, 0x78));
  return p;
}

QPalette Theme::darkPalette() {
  QPalette p;
  const QColor window(0x2b, 0x2d, 0x31);
  const QColor base(0x1f, 0x21, 0x24);
  const QColor text(0xe6, 0xe7, 0xe9);
  const QColor disabled(0x7d, 0x80, 0x86);
  const QColor accent(0x4c, 0x8d, 0xf0);
  p.setColor(QPalette::Window, window);
  p.setColor(QPalette::WindowText, text);
  p.setColor(QPalette::Base, base);
  p.setColor(QPalette::AlternateBase, QColor(0x26, 0x28, 0x2c));
  p.setColor(QPalette::ToolTipBase, QColor(0x3a, 0x3d, 0x42));
  p.setColor(QPalette::ToolTipText, text);
  p.setColor(QPalette::PlaceholderText, QColor(0x9a, 0x9d, 0xa3));
  p.setColor(QPalette::Text, text);
  p.setColor(QPalette::Button, QColor(0x35, 0x37, 0x3c));
  p.setColor(QPalette::ButtonText, text);
  p.setColor(QPalette::BrightText, QColor(0xff, 0x6b, 0x6b));
  p.setColor(QPalette::Light, QColor(0x45, 0x48, 0x4e));
  p.setColor(QPalette::Midlight, QColor(0x3a, 0x3d, 0x42));
  p.setColor(QPalette::Mid, QColor(0x25, 0x27, 0x2a));
  p.setColor(QPalette::Dark, QColor(0x1a, 0x1b, 0x1e));
  p.setColor(QPalette::Shadow, QColor(0x0e, 0x0f, 0x10));
  p.setColor(QPalette::Highlight, accent);
  p.setColor(QPalette::HighlightedText, Qt::white);
  p.setColor(QPalette::Link, QColor(0x7a, 0xb0, 0xff));
  p.setColor(QPalette::LinkVisited, QColor(0xb0, 0x9a, 0xff));
  for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText}) {
    p.setColor(QPalette::Disabled, role, disabled);
  }
  p.setColor(QPalette::Disabled, QPalette::Highlight, QColor(0x4a, 0x4d, 0x53));
  return p;
}

QIcon Theme::tinted(const QString& svgPath, const QColor& color) {
  const QIcon source(svgPath);
  QIcon icon;
  for (int size : {16, 20, 24, 32, 48}) {
    for (qreal dpr : {1.0, 2.0}) {
      QPixmap pixmap = source.pixmap(QSize(size, size), dpr);
      if (pixmap.isNull()) continue;
      QPainter painter(&pixmap);
      painter.setCompositionMode(QPainter::CompositionMode_SourceIn);
      painter.fillRect(pixmap.rect(), color);
      painter.end();
      icon.addPixmap(pixmap);
    }
  }
  return icon;
}

}  // namespace kiln::widgets
