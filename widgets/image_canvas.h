#pragma once
// An image with layers painted over it: zoom with the wheel (around the cursor), pan with the
// middle button or with Space held, paint the active layer with a round brush of a size and
// hardness, or erase it; every stroke is one step of an undo stack that both layers share.
// Two layers, each of the image's size, one active and shown at a time:
// - the mask (inpainting), tinted over the image, exported as a grayscale image, white where
//   it is painted;
// - the scribble (ControlNet scribble/lineart), black lines on a white sheet laid over the
//   image (opaque for a blank canvas, see setScribbleBackdrop), exported as drawn or inverted
//   (white lines on black, what ControlNet scribble models take, as Krita's AI plugin sends it).
// A preview picture can be shown over the image while something is being computed from it.
// Files dropped on the canvas are announced, not opened: what they mean is the caller's business.

#include <QImage>
#include <QPointF>
#include <QUndoStack>
#include <QWidget>

#include <array>

namespace kiln::widgets {

class ImageCanvas : public QWidget {
  Q_OBJECT
  Q_PROPERTY(int brushSize READ brushSize WRITE setBrushSize NOTIFY brushSizeChanged)
  Q_PROPERTY(double brushHardness READ brushHardness WRITE setBrushHardness)
  Q_PROPERTY(double zoom READ zoom NOTIFY zoomChanged)

 public:
  enum class Tool { None, Brush, Eraser };
  enum class Layer { Mask, Scribble };
  // How a scribble image given to setScribble is drawn.
  enum class Polarity { BlackOnWhite, WhiteOnBlack };

  explicit ImageCanvas(QWidget* parent = nullptr);
  ~ImageCanvas() override;

  // Shows `image` fitted to the view. The mask and the scribble are kept when `keepMask` and the
  // size is the same, else cleared; the undo history starts afresh. For a blank scribble canvas,
  // give a white image of the wanted size.
  void setImage(const QImage& image, bool keepMask = false);
  QImage image() const { return mImage; }
  bool hasImage() const { return !mImage.isNull(); }
  void clear();

  // Drawn over the image, stretched to its size (a null image removes it).
  void setPreview(const QImage& preview);
  QImage preview() const { return mPreview; }

  void setTool(Tool tool);
  Tool tool() const { return mTool; }
  // The layer that the brush paints and the view shows. Each layer keeps its own brush size and
  // hardness (a thick soft mask brush, a thin hard pen); switching announces the new size.
  void setLayer(Layer layer);
  Layer layer() const { return mLayer; }
  // Diameter in image pixels, of the active layer's brush.
  void setBrushSize(int pixels);
  int brushSize() const { return activePaint().brushSize; }
  // 0 = soft edge over the whole radius, 1 = hard edge; of the active layer's brush.
  void setBrushHardness(double hardness);
  double brushHardness() const { return activePaint().hardness; }
  // The same of either layer, active or not (the page remembers both brushes).
  void setBrushSizeOf(Layer layer, int pixels);
  int brushSizeOf(Layer layer) const { return paint(layer).brushSize; }
  void setBrushHardnessOf(Layer layer, double hardness);
  double brushHardnessOf(Layer layer) const { return paint(layer).hardness; }
  void setMaskColor(const QColor& color);

  // Grayscale8 of the image's size, 255 where painted; null without an image.
  QImage mask() const;
  bool hasMask() const;
  // Undoable.
  void clearMask();
  // Replaces the mask with `mask` (white = painted; gray or alpha), scaled to the image; undoable.
  void setMask(const QImage& mask);

  // The scribble as drawn: Grayscale8 of the image's size, black lines on white; null without
  // an image.
  QImage scribbleDrawing() const;
  // The scribble as sent to ControlNet: inverted, white lines on black.
  QImage scribbleControlMap() const;
  QImage scribble() const { return scribbleControlMap(); }
  bool hasScribble() const;
  // Undoable.
  void clearScribble();
  // Replaces the scribble with `image` (gray, or lines on transparency), scaled to the image;
  // undoable.
  void setScribble(const QImage& image, Polarity polarity = Polarity::BlackOnWhite);
  // Opacity of the white sheet under the scribble: 1 hides the image (a blank canvas), 0 draws
  // the lines straight on it.
  void setScribbleBackdrop(double opacity);
  double scribbleBackdrop() const { return mScribbleBackdrop; }

  // One stack for both layers; undoing a step of the other layer switches to it, so that the
  // change is seen.
  QUndoStack* undoStack() { return &mUndo; }

  // Paints (or erases, with the eraser) one stroke through `points` on the active layer, in
  // image coordinates, as a mouse would: one undo step. For scripts and tests.
  void paintStroke(const QList<QPointF>& points);

  double zoom() const { return mScale; }
  void setZoom(double scale);
  void zoomToFit();
  QPointF mapToImage(const QPointF& viewPoint) const;
  QPointF mapFromImage(const QPointF& imagePoint) const;

  // What the empty canvas says ("Drop an image here").
  void setPlaceholderText(const QString& text);

  QSize sizeHint() const override { return {512, 512}; }
  QSize minimumSizeHint() const override { return {160, 160}; }

 Q_SIGNALS:
  void maskChanged();
  void scribbleChanged();
  void layerChanged(kiln::widgets::ImageCanvas::Layer layer);
  void zoomChanged(double zoom);
  void brushSizeChanged(int pixels);
  void fileDropped(const QString& path);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  void keyReleaseEvent(QKeyEvent* event) override;
  void leaveEvent(QEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  friend class PaintCommand;

  // One paintable layer: coverage in the alpha of premultiplied white, and its tinted look.
  struct Paint {
    QImage pixels;   // ARGB32_Premultiplied white, alpha = coverage
    QImage overlay;  // `pixels` tinted with `color` for display
    QColor color;
    int brushSize = 48;
    double hardness = 0.7;
  };
  Paint& paint(Layer layer) { return mPaint[static_cast<size_t>(layer)]; }
  const Paint& paint(Layer layer) const { return mPaint[static_cast<size_t>(layer)]; }
  Paint& activePaint() { return paint(mLayer); }
  const Paint& activePaint() const { return paint(mLayer); }
  // Grayscale8 of a layer's coverage, or of its complement.
  QImage coverage(Layer layer, bool inverted) const;
  bool hasCoverage(Layer layer) const;
  void clearLayer(Layer layer, const QString& text);
  // Replaces a layer with `source` scaled to the image, the coverage of each pixel computed by
  // `level` from its unpremultiplied ARGB; undoable.
  void loadLayer(Layer layer, const QImage& source, int (*level)(QRgb), const QString& text);
  void announce(Layer layer);

  bool paintsLayer() const { return mTool != Tool::None && hasImage(); }
  void beginStroke(const QPointF& imagePoint);
  void continueStroke(const QPointF& imagePoint);
  void endStroke();
  void stamp(const QPointF& imagePoint);
  void recompose(const QRect& rect);
  // Puts `pixels` into a layer at `topLeft` (undo/redo) and shows that layer.
  void putPixels(Layer layer, const QPoint& topLeft, const QImage& pixels);
  void refreshOverlay(Layer layer, const QRect& rect);
  void zoomAround(double scale, const QPointF& viewPoint);
  void clampOffset();
  void updateCursor();
  QRectF imageRectInView() const;

  QImage mImage;
  QImage mPreview;
  std::array<Paint, 2> mPaint;  // by Layer
  Layer mLayer = Layer::Mask;
  double mScribbleBackdrop = 0.75;
  QUndoStack mUndo;
  QString mPlaceholder;

  Tool mTool = Tool::None;

  double mScale = 1.0;
  QPointF mOffset;  // view position of the image's top-left corner
  bool mFitted = true;

  bool mStroking = false;
  QImage mStrokeBase;  // the layer before the stroke
  QImage mStroke;      // the stroke's coverage, accumulated with max()
  QRect mStrokeRect;
  QPointF mLastStamp;

  bool mPanning = false;
  bool mSpaceHeld = false;
  QPointF mPanFrom;
  QPointF mHover{-1, -1};
};

}  // namespace kiln::widgets
