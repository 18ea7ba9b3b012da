// Anchor for the shared precompiled torch header (see KilnTargets.cmake).
