#!/usr/bin/env python3
"""Tiny DWPose fixtures for tests/core/control/test_dwpose.cpp: two ONNX models with the real
models' input/output names and shapes but a few hand-set random weights, and the reference
outputs of a faithful Python port of A1111 sd-webui-controlnet's DWPose pipeline with the cv2.dnn
backend (annotator/openpose/cv_ox_det.py, cv_ox_pose.py, wholebody.py; processor.py's
resize_image_with_pad) run on them.

Generated ONCE and committed; the tests do not need this script. Run it in a throw-away venv:

    python3 -m venv /tmp/dwpose-venv
    /tmp/dwpose-venv/bin/pip install numpy==1.26.4 opencv-python-headless==4.6.0.66 onnx==1.16.2 \
        onnxruntime==1.19.2
    /tmp/dwpose-venv/bin/python tests/data/dwpose/make_dwpose_fixtures.py

(Python 3.11.7.) opencv-python-headless 4.6.0.66 is the OpenCV of Debian's libopencv-dnn-dev 4.6
that Kiln builds against (run with IPP off, as Debian builds it). onnxruntime only cross-checks the graphs (cv2.dnn and onnxruntime must
agree); the reference numbers are cv2.dnn's, as in A1111.

Models (opset 11, float32):
  yolox_tiny.onnx  "images" [1,3,640,640] -> "output" [1,8400,85], as the YOLOX export in
                   yzd-v/DWPose's yolox_l.onnx: per stride 8/16/32 an average pool to the grid and
                   a 1x1 conv giving 4 box numbers and 81 sigmoid scores (objectness, 80 classes).
  dwpose_tiny.onnx "input" [1,3,384,288] -> "simcc_x" [1,133,576], "simcc_y" [1,133,768], as
                   dw-ll_ucoco_384.onnx: column / row means of the crop through 1x1 convs.
  rtmpose_body17_tiny.onnx  the same with 17 keypoints (a body-only RTMPose): for the test of a
                   model with the wrong outputs.
Weights are set so that the photos give several overlapping person boxes (NMS at work), a picture
with only another class gives the reference's whole-image fallback, a black one gives nobody, and
keypoint scores straddle the 0.3 thresholds (left hands absent, right hands and faces partial).
"""

import hashlib
import json
import os
import sys

import cv2
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
INPUTS = os.path.join(HERE, "..", "golden", "control_maps", "inputs")


# --- the tiny models --------------------------------------------------------------------------

def init(name, array):
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def make_yolox(path):
    rng = np.random.default_rng(1234)
    nodes, inits, level_outputs = [], [], []
    source = "images"
    anchors = 0
    for level, stride in enumerate((8, 16, 32)):
        pooled = f"pool{level}"
        kernel = 8 if level == 0 else 2
        nodes.append(helper.make_node("AveragePool", [source], [pooled], kernel_shape=[kernel, kernel],
                                      strides=[kernel, kernel]))
        source = pooled
        # box numbers: centre offsets in cells, log size (9 to 16 cells)
        w_reg = rng.normal(0.0, 0.0008, (4, 3, 1, 1))
        b_reg = np.array([0.3, 0.2, np.log((12.0, 14.0, 9.0)[level]), np.log((15.0, 16.0, 11.0)[level])])
        # scores: objectness, person (reddish), class 1 (bluish), the rest (never above 0.1)
        w_cls = rng.normal(0.0, 0.002, (81, 3, 1, 1))
        b_cls = np.full(81, -7.0) + rng.normal(0.0, 0.1, 81)
        w_cls[0, :, 0, 0] += [0.003, 0.003, 0.003]
        b_cls[0] = 1.0
        w_cls[1, :, 0, 0] += [0.05, -0.05, 0.0]
        b_cls[1] = (-9.0, -6.0, -5.0)[level]
        w_cls[2, :, 0, 0] += [-0.05, 0.0, 0.05]
        b_cls[2] = -2.6
        inits += [init(f"w_reg{level}", w_reg), init(f"b_reg{level}", b_reg), init(f"w_cls{level}", w_cls),
                  init(f"b_cls{level}", b_cls)]
        nodes.append(helper.make_node("Conv", [pooled, f"w_reg{level}", f"b_reg{level}"], [f"reg{level}"], kernel_shape=[1, 1]))
        nodes.append(helper.make_node("Conv", [pooled, f"w_cls{level}", f"b_cls{level}"], [f"logit{level}"], kernel_shape=[1, 1]))
        nodes.append(helper.make_node("Sigmoid", [f"logit{level}"], [f"cls{level}"]))
        nodes.append(helper.make_node("Concat", [f"reg{level}", f"cls{level}"], [f"head{level}"], axis=1))
        cells = (640 // stride) ** 2
        anchors += cells
        inits.append(numpy_helper.from_array(np.array([1, 85, cells], dtype=np.int64), f"shape{level}"))
        nodes.append(helper.make_node("Reshape", [f"head{level}", f"shape{level}"], [f"flat{level}"]))
        level_outputs.append(f"flat{level}")
    nodes.append(helper.make_node("Concat", level_outputs, ["all"], axis=2))
    nodes.append(helper.make_node("Transpose", ["all"], ["output"], perm=[0, 2, 1]))
    graph = helper.make_graph(nodes, "yolox_tiny",
                              [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 640, 640])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, anchors, 85])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)], producer_name="kiln-tests")
    model.ir_version = 6
    onnx.checker.check_model(model)
    onnx.save(model, path)


def make_dwpose(path, k=133):
    rng = np.random.default_rng(5678)
    bias = rng.uniform(0.0, 0.5, k)
    if k == 133:
        bias[5] = bias[6] = 0.9          # shoulders: a neck
        bias[91:112] = -1.0              # left hand: absent
        bias[112:133] = rng.uniform(-0.2, 0.4, 21)  # right hand: partial
        bias[23:91] = rng.uniform(-0.1, 0.4, 68)    # face: partial
    nodes, inits = [], []
    nodes.append(helper.make_node("AveragePool", ["input"], ["cols"], kernel_shape=[384, 1], strides=[384, 1]))
    nodes.append(helper.make_node("AveragePool", ["input"], ["rows"], kernel_shape=[1, 288], strides=[1, 288]))
    for axis_name, source, concat_axis, width in (("x", "cols", 3, 576), ("y", "rows", 2, 768)):
        halves = []
        for half in range(2):
            w = rng.normal(0.0, 0.25, (k, 3, 1, 1))
            b = bias + rng.normal(0.0, 0.02, k)
            inits += [init(f"w_{axis_name}{half}", w), init(f"b_{axis_name}{half}", b)]
            nodes.append(helper.make_node("Conv", [source, f"w_{axis_name}{half}", f"b_{axis_name}{half}"],
                                          [f"{axis_name}{half}"], kernel_shape=[1, 1]))
            halves.append(f"{axis_name}{half}")
        nodes.append(helper.make_node("Concat", halves, [f"{axis_name}cat"], axis=concat_axis))
        inits.append(numpy_helper.from_array(np.array([1, k, width], dtype=np.int64), f"shape_{axis_name}"))
        nodes.append(helper.make_node("Reshape", [f"{axis_name}cat", f"shape_{axis_name}"], [f"simcc_{axis_name}"]))
    graph = helper.make_graph(nodes, "dwpose_tiny",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 384, 288])],
                              [helper.make_tensor_value_info("simcc_x", TensorProto.FLOAT, [1, k, 576]),
                               helper.make_tensor_value_info("simcc_y", TensorProto.FLOAT, [1, k, 768])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)], producer_name="kiln-tests")
    model.ir_version = 6
    onnx.checker.check_model(model)
    onnx.save(model, path)


# --- the reference pipeline (A1111 sd-webui-controlnet, cv2.dnn backend), ported ---------------

def nms(boxes, scores, nms_thr):
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = scores.argsort(kind="stable")[::-1]  # ties: the reference's quicksort; stable here
    keep = []
    while order.size > 0:
        i = order[0]
        keep.append(i)
        xx1 = np.maximum(x1[i], x1[order[1:]])
        yy1 = np.maximum(y1[i], y1[order[1:]])
        xx2 = np.minimum(x2[i], x2[order[1:]])
        yy2 = np.minimum(y2[i], y2[order[1:]])
        w = np.maximum(0.0, xx2 - xx1 + 1)
        h = np.maximum(0.0, yy2 - yy1 + 1)
        inter = w * h
        ovr = inter / (areas[i] + areas[order[1:]] - inter)
        inds = np.where(ovr <= nms_thr)[0]
        order = order[inds + 1]
    return keep


def multiclass_nms(boxes, scores, nms_thr, score_thr):
    final_dets = []
    for cls_ind in range(scores.shape[1]):
        cls_scores = scores[:, cls_ind]
        valid = cls_scores > score_thr
        if valid.sum() == 0:
            continue
        valid_scores = cls_scores[valid]
        valid_boxes = boxes[valid]
        keep = nms(valid_boxes, valid_scores, nms_thr)
        if len(keep) > 0:
            cls_inds = np.ones((len(keep), 1)) * cls_ind
            final_dets.append(np.concatenate([valid_boxes[keep], valid_scores[keep, None], cls_inds], 1))
    if len(final_dets) == 0:
        return None
    return np.concatenate(final_dets, 0)


def demo_postprocess(outputs, img_size):
    grids, expanded_strides = [], []
    strides = [8, 16, 32]
    hsizes = [img_size[0] // s for s in strides]
    wsizes = [img_size[1] // s for s in strides]
    for hsize, wsize, stride in zip(hsizes, wsizes, strides):
        xv, yv = np.meshgrid(np.arange(wsize), np.arange(hsize))
        grid = np.stack((xv, yv), 2).reshape(1, -1, 2)
        grids.append(grid)
        expanded_strides.append(np.full((*grid.shape[:2], 1), stride))
    grids = np.concatenate(grids, 1)
    expanded_strides = np.concatenate(expanded_strides, 1)
    outputs[..., :2] = (outputs[..., :2] + grids) * expanded_strides
    outputs[..., 2:4] = np.exp(outputs[..., 2:4]) * expanded_strides
    return outputs


def det_preprocess(img, input_size):
    padded_img = np.ones((input_size[0], input_size[1], 3), dtype=np.uint8) * 114
    r = min(input_size[0] / img.shape[0], input_size[1] / img.shape[1])
    resized_img = cv2.resize(img, (int(img.shape[1] * r), int(img.shape[0] * r)),
                             interpolation=cv2.INTER_LINEAR).astype(np.uint8)
    padded_img[: int(img.shape[0] * r), : int(img.shape[1] * r)] = resized_img
    padded_img = padded_img.transpose((2, 0, 1))
    return np.ascontiguousarray(padded_img, dtype=np.float32), r


def inference_detector(session, img_in, detect_classes=(0,)):
    input_shape = (640, 640)
    img, ratio = det_preprocess(img_in, input_shape)
    session.setInput(img[None, :, :, :])
    output = session.forward(session.getUnconnectedOutLayersNames())
    predictions = demo_postprocess(output[0], input_shape)[0]
    boxes = predictions[:, :4]
    scores = predictions[:, 4:5] * predictions[:, 5:]
    boxes_xyxy = np.ones_like(boxes)
    boxes_xyxy[:, 0] = boxes[:, 0] - boxes[:, 2] / 2.
    boxes_xyxy[:, 1] = boxes[:, 1] - boxes[:, 3] / 2.
    boxes_xyxy[:, 2] = boxes[:, 0] + boxes[:, 2] / 2.
    boxes_xyxy[:, 3] = boxes[:, 1] + boxes[:, 3] / 2.
    boxes_xyxy /= ratio
    dets = multiclass_nms(boxes_xyxy, scores, nms_thr=0.45, score_thr=0.1)
    if dets is None:
        return None, {"classes_found": []}
    final_boxes, final_scores, final_cls_inds = dets[:, :4], dets[:, 4], dets[:, 5]
    isscore = final_scores > 0.3
    iscat = np.isin(final_cls_inds, detect_classes)
    isbbox = [i and j for (i, j) in zip(isscore, iscat)]
    info = {"classes_found": sorted(set(int(c) for c in final_cls_inds)),
            "person_scores": [float(s) for s, c in zip(final_scores, final_cls_inds) if c == 0 and s > 0.3]}
    return final_boxes[isbbox], info


def bbox_xyxy2cs(bbox, padding=1.):
    dim = bbox.ndim
    if dim == 1:
        bbox = bbox[None, :]
    x1, y1, x2, y2 = np.hsplit(bbox, [1, 2, 3])
    center = np.hstack([x1 + x2, y1 + y2]) * 0.5
    scale = np.hstack([x2 - x1, y2 - y1]) * padding
    if dim == 1:
        center = center[0]
        scale = scale[0]
    return center, scale


def _fix_aspect_ratio(bbox_scale, aspect_ratio):
    w, h = np.hsplit(bbox_scale, [1])
    return np.where(w > h * aspect_ratio, np.hstack([w, w / aspect_ratio]), np.hstack([h * aspect_ratio, h]))


def _rotate_point(pt, angle_rad):
    sn, cs = np.sin(angle_rad), np.cos(angle_rad)
    return np.array([[cs, -sn], [sn, cs]]) @ pt


def _get_3rd_point(a, b):
    direction = a - b
    return b + np.r_[-direction[1], direction[0]]


def get_warp_matrix(center, scale, rot, output_size, shift=(0., 0.)):
    shift = np.array(shift)
    src_w = scale[0]
    dst_w, dst_h = output_size
    rot_rad = np.deg2rad(rot)
    src_dir = _rotate_point(np.array([0., src_w * -0.5]), rot_rad)
    dst_dir = np.array([0., dst_w * -0.5])
    src = np.zeros((3, 2), dtype=np.float32)
    src[0, :] = center + scale * shift
    src[1, :] = center + src_dir + scale * shift
    src[2, :] = _get_3rd_point(src[0, :], src[1, :])
    dst = np.zeros((3, 2), dtype=np.float32)
    dst[0, :] = [dst_w * 0.5, dst_h * 0.5]
    dst[1, :] = np.array([dst_w * 0.5, dst_h * 0.5]) + dst_dir
    dst[2, :] = _get_3rd_point(dst[0, :], dst[1, :])
    return cv2.getAffineTransform(np.float32(src), np.float32(dst))


def top_down_affine(input_size, bbox_scale, bbox_center, img):
    w, h = input_size
    bbox_scale = _fix_aspect_ratio(bbox_scale, aspect_ratio=w / h)
    warp_mat = get_warp_matrix(bbox_center, bbox_scale, 0, output_size=(w, h))
    return cv2.warpAffine(img, warp_mat, (int(w), int(h)), flags=cv2.INTER_LINEAR), bbox_scale


def pose_preprocess(img, out_bbox, input_size):
    img_shape = img.shape[:2]
    out_img, out_center, out_scale = [], [], []
    if len(out_bbox) == 0:
        out_bbox = [[0, 0, img_shape[1], img_shape[0]]]
    for box in out_bbox:
        bbox = np.array([box[0], box[1], box[2], box[3]])
        center, scale = bbox_xyxy2cs(bbox, padding=1.25)
        resized_img, scale = top_down_affine(input_size, scale, center, img)
        mean = np.array([123.675, 116.28, 103.53])
        std = np.array([58.395, 57.12, 57.375])
        out_img.append((resized_img - mean) / std)
        out_center.append(center)
        out_scale.append(scale)
    return out_img, out_center, out_scale, out_bbox


def pose_inference(sess, imgs):
    all_out = []
    for img in imgs:
        sess.setInput(img.transpose(2, 0, 1)[None, :, :, :])
        all_out.append(sess.forward(sess.getUnconnectedOutLayersNames()))
    return all_out


def get_simcc_maximum(simcc_x, simcc_y):
    n, k, _ = simcc_x.shape
    simcc_x = simcc_x.reshape(n * k, -1)
    simcc_y = simcc_y.reshape(n * k, -1)
    x_locs = np.argmax(simcc_x, axis=1)
    y_locs = np.argmax(simcc_y, axis=1)
    locs = np.stack((x_locs, y_locs), axis=-1).astype(np.float32)
    max_val_x = np.amax(simcc_x, axis=1)
    max_val_y = np.amax(simcc_y, axis=1)
    mask = max_val_x > max_val_y
    max_val_x[mask] = max_val_y[mask]
    vals = max_val_x
    locs[vals <= 0.] = -1
    return locs.reshape(n, k, 2), vals.reshape(n, k)


def argmax_margin(simcc):
    """Smallest gap between the best and second-best bin over the keypoints (a tie would make the
    port's answer depend on the last bit of cv2.dnn's arithmetic)."""
    s = np.sort(simcc.reshape(simcc.shape[-2], -1), axis=1)
    return float(np.min(s[:, -1] - s[:, -2]))


def pose_postprocess(outputs, model_input_size, center, scale):
    all_key, all_score = [], []
    margins = []
    for i, out in enumerate(outputs):
        simcc_x, simcc_y = out
        margins += [argmax_margin(simcc_x), argmax_margin(simcc_y)]
        keypoints, scores = get_simcc_maximum(simcc_x, simcc_y)
        keypoints /= 2.0
        keypoints = keypoints / model_input_size * scale[i] + center[i] - scale[i] / 2
        all_key.append(keypoints[0])
        all_score.append(scores[0])
    return np.array(all_key), np.array(all_score), margins


def wholebody(session_det, session_pose, img):
    det_result, info = inference_detector(session_det, img)
    if det_result is None:
        return None, [], info, []
    resized, center, scale, boxes = pose_preprocess(img, det_result, (288, 384))
    outputs = pose_inference(session_pose, resized)
    keypoints, scores, margins = pose_postprocess(outputs, (288, 384), center, scale)
    raw = {"boxes": [[float(v) for v in b] for b in boxes], "center": [c.tolist() for c in center],
           "scale": [s.tolist() for s in scale], "keypoints": keypoints.tolist(), "scores": scores.tolist()}
    keypoints_info = np.concatenate((keypoints, scores[..., None]), axis=-1)
    neck = np.mean(keypoints_info[:, [5, 6]], axis=1)
    neck[:, 2:4] = np.logical_and(keypoints_info[:, 5, 2:4] > 0.3, keypoints_info[:, 6, 2:4] > 0.3).astype(int)
    new_keypoints_info = np.insert(keypoints_info, 17, neck, axis=1)
    mmpose_idx = [17, 6, 8, 10, 7, 9, 12, 14, 16, 13, 15, 2, 1, 4, 3]
    openpose_idx = [1, 2, 3, 4, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17]
    new_keypoints_info[:, openpose_idx] = new_keypoints_info[:, mmpose_idx]
    return new_keypoints_info, raw, info, margins


def format_result(keypoints_info):
    """Wholebody.format_result + encode_poses_as_json's keypoint lists: [x, y, 1] for a kept point,
    [0, 0, 0] for a dropped one, None for an absent hand or face."""
    def part(points):
        kept = [(float(x), float(y)) if s >= 0.3 else None for (x, y, s) in points]
        return None if all(k is None for k in kept) else kept

    def compress(points):
        if not points:
            return None
        out = []
        for p in points:
            out += [p[0], p[1], 1.0] if p is not None else [0.0, 0.0, 0.0]
        return out

    people = []
    if keypoints_info is None:
        return people
    for instance in keypoints_info:
        body = part(instance[:18]) or ([None] * 18)
        left_hand = part(instance[92:113])
        right_hand = part(instance[113:134])
        face = part(instance[24:92])
        if face is not None:
            face.append(body[14])
            face.append(body[15])
        people.append({"pose_keypoints_2d": compress(body), "face_keypoints_2d": compress(face),
                       "hand_left_keypoints_2d": compress(left_hand), "hand_right_keypoints_2d": compress(right_hand)})
    return people


def hwc3(img):
    if img.ndim == 2:
        return np.stack([img] * 3, axis=2)
    return img


def pad64(x):
    return int(np.ceil(float(x) / 64.0) * 64 - x)


def resize_image_with_pad(img, resolution):
    h_raw, w_raw, _ = img.shape
    k = float(resolution) / float(min(h_raw, w_raw))
    interpolation = cv2.INTER_CUBIC if k > 1 else cv2.INTER_AREA
    h_target = int(np.round(float(h_raw) * k))
    w_target = int(np.round(float(w_raw) * k))
    img = cv2.resize(img, (w_target, h_target), interpolation=interpolation)
    return np.pad(img, [[0, pad64(h_target)], [0, pad64(w_target)], [0, 0]], mode="edge")


def synthetic(kind, width, height):
    """Pictures the C++ test makes the same way (test_dwpose.cpp: synthetic_image)."""
    img = np.zeros((height, width, 3), dtype=np.uint8)
    if kind == "bluish":
        y, x = np.mgrid[0:height, 0:width]
        img[..., 0] = (x * 3 + y) % 40
        img[..., 1] = (x + y * 2) % 60
        img[..., 2] = 150 + (x * 7 + y * 5) % 100
    return img


def main():
    # Debian's OpenCV 4.6 (what Kiln links, and what made ../golden/control_maps) is built without
    # Intel IPP; the wheel's IPP paths round INTER_CUBIC differently. The OpenCV code paths are
    # the same in both.
    cv2.ipp.setUseIPP(False)
    det_path = os.path.join(HERE, "yolox_tiny.onnx")
    pose_path = os.path.join(HERE, "dwpose_tiny.onnx")
    make_yolox(det_path)
    make_dwpose(pose_path)
    # a body-only RTMPose layout (17 COCO points): the right input, the wrong outputs
    make_dwpose(os.path.join(HERE, "rtmpose_body17_tiny.onnx"), k=17)
    # cross-check the graphs with onnxruntime (on nets of their own: OpenCV 4.6 nets that once ran
    # forward(["simcc_x", "simcc_y"]) give stale results to later getUnconnectedOutLayersNames()
    # forwards, which is what the reference calls)
    try:
        import onnxruntime as ort
        det = cv2.dnn.readNetFromONNX(det_path)
        pose = cv2.dnn.readNetFromONNX(pose_path)
        rng = np.random.default_rng(0)
        x = rng.uniform(0, 255, (1, 3, 640, 640)).astype(np.float32)
        ref = ort.InferenceSession(det_path).run(None, {"images": x})[0]
        det.setInput(x)
        got = det.forward()
        assert ref.shape == got.shape == (1, 8400, 85), (ref.shape, got.shape)
        assert np.max(np.abs(ref - got)) < 1e-3, np.max(np.abs(ref - got))
        x = rng.normal(0, 1, (1, 3, 384, 288)).astype(np.float32)
        ref = ort.InferenceSession(pose_path).run(None, {"input": x})
        pose.setInput(x)
        got = pose.forward(["simcc_x", "simcc_y"])
        for r, g in zip(ref, got):
            assert r.shape == g.shape and np.max(np.abs(r - g)) < 1e-4
    except ImportError:
        print("onnxruntime missing: graphs not cross-checked", file=sys.stderr)

    # the reference's nets (Wholebody.__init__)
    det = cv2.dnn.readNetFromONNX(det_path)
    pose = cv2.dnn.readNetFromONNX(pose_path)
    for net in (det, pose):
        net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)

    cases = [
        {"name": "portrait_raw", "input": "inputs/photo_portrait.png", "resolution": None},
        {"name": "landscape_a1111_512", "input": "inputs/photo_landscape.png", "resolution": 512},
        {"name": "wide_raw", "input": "inputs/photo_wide.png", "resolution": None},
        {"name": "gray_a1111_256", "input": "inputs/photo_gray.png", "resolution": 256},
        {"name": "bluish_fallback", "input": "synthetic:bluish:96x80", "resolution": None},
        {"name": "black_nobody", "input": "synthetic:black:64x48", "resolution": None},
    ]
    out_cases = []
    for case in cases:
        if case["input"].startswith("synthetic:"):
            _, kind, size = case["input"].split(":")
            w, h = (int(v) for v in size.split("x"))
            img = synthetic(kind, w, h)
        else:
            raw = cv2.imread(os.path.join(INPUTS, os.path.basename(case["input"])), cv2.IMREAD_UNCHANGED)
            img = hwc3(raw if raw.ndim == 2 else cv2.cvtColor(raw, cv2.COLOR_BGR2RGB))
        if case["resolution"] is not None:
            img = resize_image_with_pad(img, case["resolution"])
        keypoints_info, raw, info, margins = wholebody(det, pose, img.copy())
        people = format_result(keypoints_info)
        entry = dict(case)
        entry.update({"canvas_width": int(img.shape[1]), "canvas_height": int(img.shape[0]),
                      "detector": info, "raw": raw, "people": people,
                      "min_argmax_margin": min(margins) if margins else None,
                      "input_sha256": hashlib.sha256(img.tobytes()).hexdigest()})
        out_cases.append(entry)
        print(case["name"], img.shape, "people", len(people), "classes", info["classes_found"],
              "margin", entry["min_argmax_margin"])
    meta = {"generator": "tests/data/dwpose/make_dwpose_fixtures.py",
            "versions": {"python": sys.version.split()[0], "numpy": np.__version__, "opencv": cv2.__version__,
                         "onnx": onnx.__version__},
            "reference": "A1111 sd-webui-controlnet annotator/openpose (cv_ox_det.py, cv_ox_pose.py, wholebody.py) "
                         "with the cv2.dnn backend; processor.py resize_image_with_pad for the a1111 cases",
            "tolerance": {"keypoint_px": 1e-3, "score": 1e-4},
            "cases": out_cases}
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(meta, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
