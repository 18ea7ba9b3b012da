#include "bridge/xyz_grid.h"

#include <QFileInfo>
#include <QFont>
#include <QFontMetrics>
#include <QPainter>
#include <QRegularExpression>

#include <algorithm>

namespace kiln::bridge {

namespace {

const QStringList kKinds{QStringLiteral("seed"),       QStringLiteral("steps"), QStringLiteral("cfg"),
                         QStringLiteral("sampler"),    QStringLiteral("checkpoint"), QStringLiteral("lora"),
                         QStringLiteral("lora_file"),  QStringLiteral("prompt")};

// "10-30", "10-30 (+10)" -> the numbers; nothing when `v` is not a range.
std::optional<QStringList> expandRange(const QString& v) {
  static const QRegularExpression re(QStringLiteral("^\\s*(-?\\d+)\\s*-\\s*(-?\\d+)\\s*(?:\\(\\s*\\+\\s*(\\d+)\\s*\\))?\\s*$"));
  const auto m = re.match(v);
  if (!m.hasMatch()) return std::nullopt;
  const qint64 a = m.captured(1).toLongLong(), b = m.captured(2).toLongLong();
  const qint64 step = m.captured(3).isEmpty() ? 1 : m.captured(3).toLongLong();
  if (step <= 0 || b < a || (b - a) / step > 1000) return std::nullopt;
  QStringList out;
  for (qint64 i = a; i <= b; i += step) out << QString::number(i);
  return out;
}

}  // namespace

QString GridAxis::title() const {
  if (kind == QLatin1String("seed")) return QStringLiteral("Seed");
  if (kind == QLatin1String("steps")) return QStringLiteral("Steps");
  if (kind == QLatin1String("cfg")) return QStringLiteral("CFG Scale");
  if (kind == QLatin1String("sampler")) return QStringLiteral("Sampler");
  if (kind == QLatin1String("checkpoint")) return QStringLiteral("Checkpoint name");
  if (kind == QLatin1String("lora")) return QStringLiteral("LoRA weight");
  if (kind == QLatin1String("lora_file")) return QStringLiteral("LoRA");
  return QStringLiteral("Prompt S/R");
}

QString GridAxis::label(int i) const {
  const QString v = values.value(i);
  if (kind == QLatin1String("checkpoint") || kind == QLatin1String("lora_file"))
    return QFileInfo(v).isDir() ? QFileInfo(v).fileName() : QFileInfo(v).completeBaseName();
  if (kind == QLatin1String("prompt")) return v;
  return title() + QStringLiteral(": ") + v;
}

QString GridAxis::valuesText() const {
  if (kind != QLatin1String("checkpoint") && kind != QLatin1String("lora_file")) return values.join(QStringLiteral(", "));
  QStringList names;
  for (int i = 0; i < values.size(); ++i) names << label(i);
  return names.join(QStringLiteral(", "));
}

std::optional<GridAxis> parseGridAxis(const QString& text, QString* error) {
  auto fail = [&](const QString& message) -> std::optional<GridAxis> {
    if (error) *error = message;
    return std::nullopt;
  };
  const qsizetype colon = text.indexOf(QLatin1Char(':'));
  if (colon <= 0) return fail(QStringLiteral("'%1': write an axis as KIND:V1,V2,... (kinds: %2)").arg(text, kKinds.join(QStringLiteral(", "))));
  GridAxis axis;
  axis.kind = text.left(colon).trimmed().toLower();
  if (!kKinds.contains(axis.kind))
    return fail(QStringLiteral("unknown axis kind '%1' (kinds: %2)").arg(axis.kind, kKinds.join(QStringLiteral(", "))));
  // Checkpoint paths may hold commas rarely; values are split on commas like A1111 does.
  for (const QString& raw : text.mid(colon + 1).split(QLatin1Char(','))) {
    const QString v = raw.trimmed();
    if (v.isEmpty()) continue;
    if (axis.kind == QLatin1String("seed") || axis.kind == QLatin1String("steps")) {
      if (const auto range = expandRange(v)) {
        axis.values << *range;
        continue;
      }
      bool ok = false;
      v.toLongLong(&ok);
      if (!ok) return fail(QStringLiteral("%1 axis: '%2' is not a whole number or a range like 10-30 (+10)").arg(axis.title(), v));
    } else if (axis.kind == QLatin1String("cfg") || axis.kind == QLatin1String("lora")) {
      bool ok = false;
      v.toDouble(&ok);
      if (!ok) return fail(QStringLiteral("%1 axis: '%2' is not a number").arg(axis.title(), v));
    }
    axis.values << v;
  }
  if (axis.values.isEmpty()) return fail(QStringLiteral("the %1 axis has no values").arg(axis.title()));
  if (axis.kind == QLatin1String("prompt") && axis.values.size() < 2)
    return fail(QStringLiteral("Prompt S/R needs the text to find and at least one replacement"));
  return axis;
}

QList<GridCellIndex> gridCells(const GridAxis* x, const GridAxis* y, const GridAxis* z) {
  const int nx = x ? int(x->values.size()) : 1, ny = y ? int(y->values.size()) : 1, nz = z ? int(z->values.size()) : 1;
  QList<GridCellIndex> out;
  for (int k = 0; k < nz; ++k)
    for (int j = 0; j < ny; ++j)
      for (int i = 0; i < nx; ++i) out.push_back({i, j, k});
  return out;
}

QImage composeGrid(const QList<QImage>& cells, const GridAxis* x, const GridAxis* y, const GridAxis* z) {
  const int nx = x ? int(x->values.size()) : 1, ny = y ? int(y->values.size()) : 1, nz = z ? int(z->values.size()) : 1;
  if (cells.isEmpty() || cells.size() != qsizetype(nx) * ny * nz) return {};
  const int w = cells.first().width(), h = cells.first().height();
  QFont font;
  font.setPixelSize(std::clamp(std::min(w, h) / 12, 12, 36));
  const QFontMetrics fm(font);
  const int pad = fm.height() / 2;
  const int top = x ? fm.height() * 2 + pad : 0;          // column headers (two lines wrap)
  const int zTop = z ? fm.height() + pad : 0;             // a header per z grid
  int left = 0;
  if (y)
    for (int j = 0; j < ny; ++j) left = std::max(left, std::min(fm.horizontalAdvance(y->label(j)) + 2 * pad, w));
  const int gap = z ? pad * 2 : 0;
  const int gridW = left + nx * w, gridH = zTop + top + ny * h;
  QImage out(nz * gridW + (nz - 1) * gap, gridH, QImage::Format_RGB32);
  out.fill(Qt::white);
  QPainter painter(&out);
  painter.setFont(font);
  painter.setPen(Qt::black);
  for (int k = 0; k < nz; ++k) {
    const int ox = k * (gridW + gap);
    if (z) painter.drawText(QRect(ox, 0, gridW, zTop), Qt::AlignCenter | Qt::TextWordWrap, z->label(k));
    for (int i = 0; x && i < nx; ++i)
      painter.drawText(QRect(ox + left + i * w, zTop, w, top), Qt::AlignCenter | Qt::TextWordWrap, x->label(i));
    for (int j = 0; y && j < ny; ++j)
      painter.drawText(QRect(ox, zTop + top + j * h, left, h), Qt::AlignCenter | Qt::TextWordWrap, y->label(j));
    for (int j = 0; j < ny; ++j)
      for (int i = 0; i < nx; ++i)
        painter.drawImage(ox + left + i * w, zTop + top + j * h, cells.at((qsizetype(k) * ny + j) * nx + i));
  }
  painter.end();
  return out;
}

}  // namespace kiln::bridge
