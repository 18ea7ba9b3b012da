#include "widgets/image_canvas.h"

#include <QDragEnterEvent>
#include <QDropEvent>
#include <QKeyEvent>
#include <QMimeData>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QRadialGradient>
#include <QUndoCommand>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace kiln::widgets {

namespace {

constexpr double kMinScale = 0.05;
constexpr double kMaxScale = 32.0;
constexpr int kUndoLimit = 64;

QImage emptyMask(const QSize& size) {
  QImage mask(size, QImage::Format_ARGB32_Premultiplied);
  mask.fill(Qt::transparent);
  return mask;
}

}  // namespace

// One stroke, clearing or loading of a layer: the pixels of a rectangle before and after.
class PaintCommand : public QUndoCommand {
 public:
  PaintCommand(ImageCanvas* canvas, ImageCanvas::Layer layer, const QPoint& topLeft, QImage before, QImage after,
               const QString& text)
      : QUndoCommand(text),
        mCanvas(canvas),
        mLayer(layer),
        mTopLeft(topLeft),
        mBefore(std::move(before)),
        mAfter(std::move(after)) {}

  void undo() override { mCanvas->putPixels(mLayer, mTopLeft, mBefore); }
  void redo() override {
    // The first redo comes from push(): the canvas already shows the result.
    if (mFirst) {
      mFirst = false;
      return;
    }
    mCanvas->putPixels(mLayer, mTopLeft, mAfter);
  }

 private:
  ImageCanvas* mCanvas;
  ImageCanvas::Layer mLayer;
  QPoint mTopLeft;
  QImage mBefore;
  QImage mAfter;
  bool mFirst = true;
};

ImageCanvas::ImageCanvas(QWidget* parent) : QWidget(parent) {
  setFocusPolicy(Qt::StrongFocus);
  setMouseTracking(true);
  setAttribute(Qt::WA_OpaquePaintEvent);
  mUndo.setUndoLimit(kUndoLimit);
  paint(Layer::Mask).color = QColor(255, 59, 92);
  // Scribble models were trained on thin lines: a pen, not a marker.
  Paint& scribble = paint(Layer::Scribble);
  scribble.color = Qt::black;
  scribble.brushSize = 6;
  scribble.hardness = 1.0;
}

ImageCanvas::~ImageCanvas() = default;

void ImageCanvas::setImage(const QImage& image, bool keepMask) {
  const bool sameSize = !mImage.isNull() && image.size() == mImage.size();
  mImage = image.convertToFormat(QImage::Format_RGB32);
  mPreview = QImage();
  if (!(keepMask && sameSize)) {
    for (Paint& layer : mPaint) {
      layer.pixels = image.isNull() ? QImage() : emptyMask(image.size());
      layer.overlay = layer.pixels.isNull() ? QImage() : emptyMask(image.size());
    }
    mUndo.clear();
    Q_EMIT maskChanged();
    Q_EMIT scribbleChanged();
  }
  mFitted = true;
  zoomToFit();
  updateCursor();
  update();
}

void ImageCanvas::clear() { setImage(QImage()); }

void ImageCanvas::setPreview(const QImage& preview) {
  mPreview = preview;
  update();
}

void ImageCanvas::setTool(Tool tool) {
  mTool = tool;
  updateCursor();
  update();
}

void ImageCanvas::setLayer(Layer layer) {
  if (layer == mLayer) return;
  const int previousSize = brushSize();
  if (mStroking) endStroke();
  mLayer = layer;
  update();
  Q_EMIT layerChanged(layer);
  if (brushSize() != previousSize) Q_EMIT brushSizeChanged(brushSize());
}

void ImageCanvas::setBrushSize(int pixels) { setBrushSizeOf(mLayer, pixels); }

void ImageCanvas::setBrushSizeOf(Layer layer, int pixels) {
  pixels = std::clamp(pixels, 1, 2048);
  if (pixels == paint(layer).brushSize) return;
  paint(layer).brushSize = pixels;
  if (layer != mLayer) return;  // announced when the layer becomes the active one
  update();
  Q_EMIT brushSizeChanged(pixels);
}

void ImageCanvas::setBrushHardness(double hardness) { setBrushHardnessOf(mLayer, hardness); }

void ImageCanvas::setBrushHardnessOf(Layer layer, double hardness) {
  paint(layer).hardness = std::clamp(hardness, 0.0, 1.0);
}

void ImageCanvas::setMaskColor(const QColor& color) {
  Paint& mask = paint(Layer::Mask);
  mask.color = color;
  if (!mask.pixels.isNull()) refreshOverlay(Layer::Mask, mask.pixels.rect());
  update();
}

QImage ImageCanvas::coverage(Layer layer, bool inverted) const {
  const QImage& pixels = paint(layer).pixels;
  if (pixels.isNull()) return {};
  QImage gray(pixels.size(), QImage::Format_Grayscale8);
  for (int y = 0; y < pixels.height(); ++y) {
    const auto* in = reinterpret_cast<const QRgb*>(pixels.constScanLine(y));
    uchar* out = gray.scanLine(y);
    for (int x = 0; x < pixels.width(); ++x) {
      const int a = qAlpha(in[x]);
      out[x] = static_cast<uchar>(inverted ? 255 - a : a);
    }
  }
  return gray;
}

bool ImageCanvas::hasCoverage(Layer layer) const {
  const QImage& pixels = paint(layer).pixels;
  for (int y = 0; y < pixels.height(); ++y) {
    const auto* in = reinterpret_cast<const QRgb*>(pixels.constScanLine(y));
    for (int x = 0; x < pixels.width(); ++x) {
      if (qAlpha(in[x]) != 0) return true;
    }
  }
  return false;
}

void ImageCanvas::clearLayer(Layer layer, const QString& text) {
  if (!hasCoverage(layer)) return;
  QImage& pixels = paint(layer).pixels;
  QImage before = pixels.copy();
  pixels.fill(Qt::transparent);
  refreshOverlay(layer, pixels.rect());
  mUndo.push(new PaintCommand(this, layer, QPoint(0, 0), std::move(before), pixels.copy(), text));
  update();
  announce(layer);
}

void ImageCanvas::loadLayer(Layer layer, const QImage& source, int (*level)(QRgb), const QString& text) {
  QImage& pixels = paint(layer).pixels;
  if (pixels.isNull() || source.isNull()) return;
  const QImage scaled = source.scaled(pixels.size(), Qt::IgnoreAspectRatio, Qt::SmoothTransformation)
                            .convertToFormat(QImage::Format_ARGB32);
  QImage before = pixels.copy();
  for (int y = 0; y < pixels.height(); ++y) {
    const auto* in = reinterpret_cast<const QRgb*>(scaled.constScanLine(y));
    auto* out = reinterpret_cast<QRgb*>(pixels.scanLine(y));
    for (int x = 0; x < pixels.width(); ++x) {
      const int a = std::clamp(level(in[x]), 0, 255);
      out[x] = qRgba(a, a, a, a);  // premultiplied white
    }
  }
  refreshOverlay(layer, pixels.rect());
  mUndo.push(new PaintCommand(this, layer, QPoint(0, 0), std::move(before), pixels.copy(), text));
  update();
  announce(layer);
}

void ImageCanvas::announce(Layer layer) {
  if (layer == Layer::Mask)
    Q_EMIT maskChanged();
  else
    Q_EMIT scribbleChanged();
}

QImage ImageCanvas::mask() const { return coverage(Layer::Mask, false); }
bool ImageCanvas::hasMask() const { return hasCoverage(Layer::Mask); }
void ImageCanvas::clearMask() { clearLayer(Layer::Mask, tr("Clear Mask")); }

// A mask file is white where painted: its alpha when it has one, else its gray level.
void ImageCanvas::setMask(const QImage& mask) {
  const auto alpha = [](QRgb c) { return qAlpha(c); };
  const auto level = [](QRgb c) { return qGray(c); };
  loadLayer(Layer::Mask, mask, mask.hasAlphaChannel() ? +alpha : +level, tr("Load Mask"));
}

QImage ImageCanvas::scribbleDrawing() const { return coverage(Layer::Scribble, true); }
QImage ImageCanvas::scribbleControlMap() const { return coverage(Layer::Scribble, false); }
bool ImageCanvas::hasScribble() const { return hasCoverage(Layer::Scribble); }
void ImageCanvas::clearScribble() { clearLayer(Layer::Scribble, tr("Clear Scribble")); }

// A line is where the picture is dark (or light, inverted), weighted by its opacity: black
// lines on transparency load as they look.
void ImageCanvas::setScribble(const QImage& image, Polarity polarity) {
  const auto dark = [](QRgb c) { return qAlpha(c) * (255 - qGray(c)) / 255; };
  const auto light = [](QRgb c) { return qAlpha(c) * qGray(c) / 255; };
  loadLayer(Layer::Scribble, image, polarity == Polarity::BlackOnWhite ? +dark : +light, tr("Load Scribble"));
}

void ImageCanvas::setScribbleBackdrop(double opacity) {
  mScribbleBackdrop = std::clamp(opacity, 0.0, 1.0);
  update();
}

void ImageCanvas::paintStroke(const QList<QPointF>& points) {
  if (points.isEmpty() || !paintsLayer()) return;
  beginStroke(points.front());
  for (qsizetype i = 1; i < points.size(); ++i) continueStroke(points[i]);
  endStroke();
}

void ImageCanvas::setZoom(double scale) { zoomAround(scale, QPointF(width() / 2.0, height() / 2.0)); }

void ImageCanvas::zoomToFit() {
  mFitted = true;
  if (mImage.isNull()) return;
  const double margin = 12;
  const double sx = (width() - 2 * margin) / mImage.width();
  const double sy = (height() - 2 * margin) / mImage.height();
  mScale = std::clamp(std::min(sx, sy), kMinScale, kMaxScale);
  mOffset = QPointF((width() - mImage.width() * mScale) / 2.0, (height() - mImage.height() * mScale) / 2.0);
  update();
  Q_EMIT zoomChanged(mScale);
}

QPointF ImageCanvas::mapToImage(const QPointF& viewPoint) const { return (viewPoint - mOffset) / mScale; }
QPointF ImageCanvas::mapFromImage(const QPointF& imagePoint) const { return imagePoint * mScale + mOffset; }

void ImageCanvas::setPlaceholderText(const QString& text) {
  mPlaceholder = text;
  update();
}

QRectF ImageCanvas::imageRectInView() const {
  return {mOffset, QSizeF(mImage.width() * mScale, mImage.height() * mScale)};
}

void ImageCanvas::paintEvent(QPaintEvent*) {
  QPainter p(this);
  const QPalette& pal = palette();
  p.fillRect(rect(), pal.color(QPalette::Base).darker(pal.color(QPalette::Base).lightness() < 128 ? 120 : 104));
  if (mImage.isNull()) {
    p.setPen(pal.color(QPalette::PlaceholderText));
    p.drawText(rect().adjusted(24, 24, -24, -24), Qt::AlignCenter | Qt::TextWordWrap, mPlaceholder);
    return;
  }
  const QRectF target = imageRectInView();
  // Enlarged pixels stay sharp (a 64 px image is still 64 px); reduced ones are smoothed.
  p.setRenderHint(QPainter::SmoothPixmapTransform, mScale < 2.0);
  p.drawImage(target, mPreview.isNull() ? mImage : mPreview);
  const Paint& layer = activePaint();
  if (mPreview.isNull() && !layer.overlay.isNull()) {
    if (mLayer == Layer::Scribble) {
      // The sheet the lines are drawn on, and the lines at full strength: what is seen is
      // what is sent (inverted).
      p.fillRect(target, QColor(255, 255, 255, qRound(255 * mScribbleBackdrop)));
      p.drawImage(target, layer.overlay);
    } else {
      p.setOpacity(0.55);
      p.drawImage(target, layer.overlay);
      p.setOpacity(1.0);
    }
  }
  p.setPen(QPen(pal.color(QPalette::Mid), 1));
  p.setBrush(Qt::NoBrush);
  p.drawRect(target.adjusted(-0.5, -0.5, 0.5, 0.5));

  if (paintsLayer() && mHover.x() >= 0 && !mPanning && !mSpaceHeld) {
    const double radius = std::max(1.5, brushSize() * mScale / 2.0);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(QPen(QColor(0, 0, 0, 160), 3));
    p.drawEllipse(mHover, radius, radius);
    p.setPen(QPen(QColor(255, 255, 255, 230), 1.2));
    p.drawEllipse(mHover, radius, radius);
  }
}

void ImageCanvas::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  if (mFitted)
    zoomToFit();
  else
    clampOffset();
}

void ImageCanvas::wheelEvent(QWheelEvent* event) {
  if (mImage.isNull()) return;
  const double steps = event->angleDelta().y() / 120.0;
  zoomAround(mScale * std::pow(1.2, steps), event->position());
  event->accept();
}

void ImageCanvas::zoomAround(double scale, const QPointF& viewPoint) {
  if (mImage.isNull()) return;
  scale = std::clamp(scale, kMinScale, kMaxScale);
  const QPointF anchor = mapToImage(viewPoint);
  mScale = scale;
  mOffset = viewPoint - anchor * mScale;
  mFitted = false;
  clampOffset();
  update();
  Q_EMIT zoomChanged(mScale);
}

// Keeps at least a quarter of the image in view.
void ImageCanvas::clampOffset() {
  const double w = mImage.width() * mScale;
  const double h = mImage.height() * mScale;
  const double keepX = std::min(w, width() / 4.0);
  const double keepY = std::min(h, height() / 4.0);
  mOffset.setX(std::clamp(mOffset.x(), keepX - w, width() - keepX));
  mOffset.setY(std::clamp(mOffset.y(), keepY - h, height() - keepY));
}

void ImageCanvas::mousePressEvent(QMouseEvent* event) {
  const bool pan =
      event->button() == Qt::MiddleButton || (event->button() == Qt::LeftButton && (mSpaceHeld || mTool == Tool::None));
  if (pan && hasImage()) {
    mPanning = true;
    mPanFrom = event->position();
    updateCursor();
    return;
  }
  if (event->button() == Qt::LeftButton && paintsLayer()) beginStroke(mapToImage(event->position()));
}

void ImageCanvas::mouseMoveEvent(QMouseEvent* event) {
  const QPointF previousHover = mHover;
  mHover = event->position();
  if (mPanning) {
    mOffset += event->position() - mPanFrom;
    mPanFrom = event->position();
    mFitted = false;
    clampOffset();
    update();
    return;
  }
  if (mStroking) continueStroke(mapToImage(event->position()));
  if (paintsLayer()) {
    const double r = brushSize() * mScale / 2.0 + 4;
    update(QRectF(previousHover - QPointF(r, r), QSizeF(2 * r, 2 * r)).toAlignedRect());
    update(QRectF(mHover - QPointF(r, r), QSizeF(2 * r, 2 * r)).toAlignedRect());
  }
}

void ImageCanvas::mouseReleaseEvent(QMouseEvent* event) {
  if (mPanning && (event->button() == Qt::MiddleButton || event->button() == Qt::LeftButton)) {
    mPanning = false;
    updateCursor();
    return;
  }
  if (event->button() == Qt::LeftButton && mStroking) endStroke();
}

void ImageCanvas::keyPressEvent(QKeyEvent* event) {
  if (event->key() == Qt::Key_Space && !event->isAutoRepeat()) {
    mSpaceHeld = true;
    updateCursor();
    update();
    return;
  }
  if (event->key() == Qt::Key_BracketLeft) {
    setBrushSize(static_cast<int>(brushSize() / 1.15));
    return;
  }
  if (event->key() == Qt::Key_BracketRight) {
    setBrushSize(static_cast<int>(std::ceil(brushSize() * 1.15)));
    return;
  }
  QWidget::keyPressEvent(event);
}

void ImageCanvas::keyReleaseEvent(QKeyEvent* event) {
  if (event->key() == Qt::Key_Space && !event->isAutoRepeat()) {
    mSpaceHeld = false;
    updateCursor();
    update();
    return;
  }
  QWidget::keyReleaseEvent(event);
}

void ImageCanvas::leaveEvent(QEvent* event) {
  mHover = QPointF(-1, -1);
  update();
  QWidget::leaveEvent(event);
}

void ImageCanvas::dragEnterEvent(QDragEnterEvent* event) {
  const QMimeData* data = event->mimeData();
  if (data->hasUrls() && !data->urls().isEmpty() && data->urls().front().isLocalFile()) event->acceptProposedAction();
}

void ImageCanvas::dropEvent(QDropEvent* event) {
  const QList<QUrl> urls = event->mimeData()->urls();
  if (urls.isEmpty() || !urls.front().isLocalFile()) return;
  event->acceptProposedAction();
  Q_EMIT fileDropped(urls.front().toLocalFile());
}

void ImageCanvas::beginStroke(const QPointF& imagePoint) {
  mStroking = true;
  mStrokeBase = activePaint().pixels.copy();
  mStroke = emptyMask(mStrokeBase.size());
  mStrokeRect = QRect();
  stamp(imagePoint);
  mLastStamp = imagePoint;
}

// Stamps the brush along the segment, a quarter of its radius apart, so fast strokes stay
// continuous.
void ImageCanvas::continueStroke(const QPointF& imagePoint) {
  const double spacing = std::max(1.0, brushSize() / 8.0);
  const QPointF delta = imagePoint - mLastStamp;
  const double distance = std::hypot(delta.x(), delta.y());
  if (distance < spacing) return;
  const int count = static_cast<int>(distance / spacing);
  for (int i = 1; i <= count; ++i) stamp(mLastStamp + delta * (i * spacing / distance));
  mLastStamp += delta * (count * spacing / distance);
}

void ImageCanvas::endStroke() {
  mStroking = false;
  if (mStrokeRect.isEmpty()) return;
  const QString text = mTool == Tool::Eraser       ? tr("Erase")
                       : mLayer == Layer::Scribble ? tr("Draw Scribble")
                                                   : tr("Paint Mask");
  mUndo.push(new PaintCommand(this, mLayer, mStrokeRect.topLeft(), mStrokeBase.copy(mStrokeRect),
                              activePaint().pixels.copy(mStrokeRect), text));
  mStrokeBase = QImage();
  mStroke = QImage();
  announce(mLayer);
}

// The stroke's coverage keeps the strongest value each pixel got (Lighten on premultiplied
// white), so a soft brush stays soft where its stamps overlap.
void ImageCanvas::stamp(const QPointF& imagePoint) {
  const double radius = brushSize() / 2.0;
  const double hardness = brushHardness();
  const QRectF area(imagePoint - QPointF(radius, radius), QSizeF(2 * radius, 2 * radius));
  const QRect dirty = area.toAlignedRect().adjusted(-1, -1, 1, 1).intersected(mStroke.rect());
  if (dirty.isEmpty()) return;
  {
    QPainter p(&mStroke);
    p.setRenderHint(QPainter::Antialiasing);
    p.setCompositionMode(QPainter::CompositionMode_Lighten);
    p.setPen(Qt::NoPen);
    if (hardness >= 0.999) {
      p.setBrush(Qt::white);
    } else {
      QRadialGradient gradient(imagePoint, radius);
      gradient.setColorAt(0.0, Qt::white);
      gradient.setColorAt(std::max(0.0, hardness), Qt::white);
      gradient.setColorAt(1.0, QColor(255, 255, 255, 0));
      p.setBrush(gradient);
    }
    p.drawEllipse(imagePoint, radius, radius);
  }
  mStrokeRect |= dirty;
  recompose(dirty);
}

void ImageCanvas::recompose(const QRect& rect) {
  {
    QPainter p(&activePaint().pixels);
    p.setCompositionMode(QPainter::CompositionMode_Source);
    p.drawImage(rect.topLeft(), mStrokeBase, rect);
    p.setCompositionMode(mTool == Tool::Eraser ? QPainter::CompositionMode_DestinationOut
                                               : QPainter::CompositionMode_SourceOver);
    p.drawImage(rect.topLeft(), mStroke, rect);
  }
  refreshOverlay(mLayer, rect);
  update(QRectF(mapFromImage(rect.topLeft()), QSizeF(rect.width() * mScale, rect.height() * mScale))
             .toAlignedRect()
             .adjusted(-2, -2, 2, 2));
}

void ImageCanvas::putPixels(Layer layer, const QPoint& topLeft, const QImage& pixels) {
  {
    QPainter p(&paint(layer).pixels);
    p.setCompositionMode(QPainter::CompositionMode_Source);
    p.drawImage(topLeft, pixels);
  }
  refreshOverlay(layer, QRect(topLeft, pixels.size()));
  setLayer(layer);
  update();
  announce(layer);
}

void ImageCanvas::refreshOverlay(Layer layer, const QRect& rect) {
  Paint& target = paint(layer);
  if (target.overlay.isNull()) return;
  QPainter p(&target.overlay);
  p.setCompositionMode(QPainter::CompositionMode_Source);
  p.drawImage(rect.topLeft(), target.pixels, rect);
  p.setCompositionMode(QPainter::CompositionMode_SourceIn);
  p.fillRect(rect, target.color);
}

void ImageCanvas::updateCursor() {
  if (mPanning)
    setCursor(Qt::ClosedHandCursor);
  else if (mSpaceHeld || (mTool == Tool::None && hasImage()))
    setCursor(Qt::OpenHandCursor);
  else if (paintsLayer())
    setCursor(Qt::CrossCursor);
  else
    unsetCursor();
}

}  // namespace kiln::widgets
