#pragma once
// An image with a mask painted over it: zoom with the wheel (around the cursor), pan with the
// middle button or with Space held, paint the mask with a round brush of a size and hardness,
// or erase it; every stroke is one step of an undo stack. The mask is the image's size and is
// exported as a grayscale image, white where it is painted. A preview picture can be shown
// over the image while something is being computed from it. Files dropped on the canvas are
// announced, not opened: what they mean is the caller's business.

#include <QImage>
#include <QPointF>
#include <QUndoStack>
#include <QWidget>

namespace kiln::widgets {

class ImageCanvas : public QWidget {
  Q_OBJECT
  Q_PROPERTY(int brushSize READ brushSize WRITE setBrushSize NOTIFY brushSizeChanged)
  Q_PROPERTY(double brushHardness READ brushHardness WRITE setBrushHardness)
  Q_PROPERTY(double zoom READ zoom NOTIFY zoomChanged)

 public:
  enum class Tool { None, Brush, Eraser };

  explicit ImageCanvas(QWidget* parent = nullptr);
  ~ImageCanvas() override;

  // Shows `image` fitted to the view. The mask is kept when `keepMask` and the size is the same,
  // else cleared; the undo history starts afresh.
  void setImage(const QImage& image, bool keepMask = false);
  QImage image() const { return mImage; }
  bool hasImage() const { return !mImage.isNull(); }
  void clear();

  // Drawn over the image, stretched to its size (a null image removes it).
  void setPreview(const QImage& preview);
  QImage preview() const { return mPreview; }

  void setTool(Tool tool);
  Tool tool() const { return mTool; }
  // Diameter in image pixels.
  void setBrushSize(int pixels);
  int brushSize() const { return mBrushSize; }
  // 0 = soft edge over the whole radius, 1 = hard edge.
  void setBrushHardness(double hardness);
  double brushHardness() const { return mHardness; }
  void setMaskColor(const QColor& color);

  // Grayscale8 of the image's size, 255 where painted; null without an image.
  QImage mask() const;
  bool hasMask() const;
  // Undoable.
  void clearMask();
  // Replaces the mask with `mask` (white = painted; gray or alpha), scaled to the image; undoable.
  void setMask(const QImage& mask);
  QUndoStack* undoStack() { return &mUndo; }

  // Paints (or erases, with the eraser) one stroke through `points`, in image coordinates, as a
  // mouse would: one undo step. For scripts and tests.
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
  friend class MaskCommand;

  bool paintsMask() const { return mTool != Tool::None && hasImage(); }
  void beginStroke(const QPointF& imagePoint);
  void continueStroke(const QPointF& imagePoint);
  void endStroke();
  void stamp(const QPointF& imagePoint);
  void recompose(const QRect& rect);
  // Puts `pixels` into the mask at `topLeft` (undo/redo).
  void putMask(const QPoint& topLeft, const QImage& pixels);
  void refreshOverlay(const QRect& rect);
  void zoomAround(double scale, const QPointF& viewPoint);
  void clampOffset();
  void updateCursor();
  QRectF imageRectInView() const;

  QImage mImage;
  QImage mPreview;
  QImage mMask;     // ARGB32_Premultiplied white, alpha = mask
  QImage mOverlay;  // the mask tinted for display
  QColor mMaskColor{255, 59, 92};
  QUndoStack mUndo;
  QString mPlaceholder;

  Tool mTool = Tool::None;
  int mBrushSize = 48;
  double mHardness = 0.7;

  double mScale = 1.0;
  QPointF mOffset;  // view position of the image's top-left corner
  bool mFitted = true;

  bool mStroking = false;
  QImage mStrokeBase;  // the mask before the stroke
  QImage mStroke;      // the stroke's coverage, accumulated with max()
  QRect mStrokeRect;
  QPointF mLastStamp;

  bool mPanning = false;
  bool mSpaceHeld = false;
  QPointF mPanFrom;
  QPointF mHover{-1, -1};
};

}  // namespace kiln::widgets
