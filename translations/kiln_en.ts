<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en">
<context>
    <name>TrainSession</name>
    <message numerus="yes">
        <source>%n image(s) have no caption file: their file name becomes the prompt.</source>
        <translation>
            <numerusform>%n image has no caption file: its file name becomes the prompt.</numerusform>
            <numerusform>%n images have no caption file: their file name becomes the prompt.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n image(s) are smaller than %1 px: they are scaled up (blurry).</source>
        <translation>
            <numerusform>%n image is smaller than %1 px: it is scaled up (blurry).</numerusform>
            <numerusform>%n images are smaller than %1 px: they are scaled up (blurry).</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>kiln::app::CaptionEndpointDialog</name>
    <message numerus="yes">
        <source>OK · %1 ms · %n model(s) listed</source>
        <translation>
            <numerusform>OK · %1 ms · %n model listed</numerusform>
            <numerusform>OK · %1 ms · %n models listed</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>kiln::app::CaptionOptionsDialog</name>
    <message numerus="yes">
        <source>Caption %n Image(s)</source>
        <translation>
            <numerusform>Caption %n Image</numerusform>
            <numerusform>Caption %n Images</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>kiln::app::ControlUnitEditor</name>
    <message numerus="yes">
        <source>%n person(s), %1×%2</source>
        <translation>
            <numerusform>%n person, %1×%2</numerusform>
            <numerusform>%n people, %1×%2</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>kiln::app::DatasetPage</name>
    <message numerus="yes">
        <source>Import cancelled: %n photo(s) prepared</source>
        <translation>
            <numerusform>Import cancelled: %n photo prepared</numerusform>
            <numerusform>Import cancelled: %n photos prepared</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Prepared %n photo(s)</source>
        <translation>
            <numerusform>Prepared %n photo</numerusform>
            <numerusform>Prepared %n photos</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n photo(s) could not be used</source>
        <translation>
            <numerusform>%n photo could not be used</numerusform>
            <numerusform>%n photos could not be used</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n image(s)</source>
        <translation>
            <numerusform>%n image</numerusform>
            <numerusform>%n images</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n with a face</source>
        <translation>
            <numerusform>%n with a face</numerusform>
            <numerusform>%n with a face</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n to look at</source>
        <translation>
            <numerusform>%n to look at</numerusform>
            <numerusform>%n to look at</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n face(s)</source>
        <translation>
            <numerusform>%n face</numerusform>
            <numerusform>%n faces</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Edit of %n Caption(s)</source>
        <translation>
            <numerusform>Edit of %n Caption</numerusform>
            <numerusform>Edit of %n Captions</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Changed %n caption(s)</source>
        <translation>
            <numerusform>Changed %n caption</numerusform>
            <numerusform>Changed %n captions</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Removal of %n Image(s)</source>
        <translation>
            <numerusform>Removal of %n Image</numerusform>
            <numerusform>Removal of %n Images</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n s left</source>
        <translation>
            <numerusform>%n s left</numerusform>
            <numerusform>%n s left</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n min left</source>
        <translation>
            <numerusform>%n min left</numerusform>
            <numerusform>%n min left</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n caption(s) were written or edited by you. Replace them too?</source>
        <translation>
            <numerusform>%n caption was written or edited by you. Replace it too?</numerusform>
            <numerusform>%n captions were written or edited by you. Replace them too?</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n failed</source>
        <translation>
            <numerusform>%n failed</numerusform>
            <numerusform>%n failed</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1. %n caption(s) written before it stopped.</source>
        <translation>
            <numerusform>%1. %n caption written before it stopped.</numerusform>
            <numerusform>%1. %n captions written before it stopped.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n image(s) could not be captioned</source>
        <translation>
            <numerusform>%n image could not be captioned</numerusform>
            <numerusform>%n images could not be captioned</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Captioning cancelled: %n caption(s) written</source>
        <translation>
            <numerusform>Captioning cancelled: %n caption written</numerusform>
            <numerusform>Captioning cancelled: %n captions written</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Wrote %n caption(s)</source>
        <translation>
            <numerusform>Wrote %n caption</numerusform>
            <numerusform>Wrote %n captions</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>kiln::app::DownloadsPanel</name>
    <message numerus="yes">
        <source>%n s left</source>
        <translation>
            <numerusform>%n s left</numerusform>
            <numerusform>%n s left</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n min left</source>
        <translation>
            <numerusform>%n min left</numerusform>
            <numerusform>%n min left</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>kiln::app::GeneratePage</name>
    <message numerus="yes">
        <source>%n s</source>
        <translation>
            <numerusform>%n s</numerusform>
            <numerusform>%n s</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Done: %n image(s), seed %1</source>
        <translation>
            <numerusform>Done: %n image, seed %1</numerusform>
            <numerusform>Done: %n images, seed %1</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Cancelled after %n image(s)</source>
        <translation>
            <numerusform>Cancelled after %n image</numerusform>
            <numerusform>Cancelled after %n images</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Added to the queue (%n waiting)</source>
        <translation>
            <numerusform>Added to the queue (%n waiting)</numerusform>
            <numerusform>Added to the queue (%n waiting)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>X/Y/Z plot: %n image(s) queued</source>
        <translation>
            <numerusform>X/Y/Z plot: %n image queued</numerusform>
            <numerusform>X/Y/Z plot: %n images queued</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source> · %n queued</source>
        <translation>
            <numerusform> · %n queued</numerusform>
            <numerusform> · %n queued</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Queue: %n waiting</source>
        <translation>
            <numerusform>Queue: %n waiting</numerusform>
            <numerusform>Queue: %n waiting</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1 · %n token(s)</source>
        <translation>
            <numerusform>%1 · %n token</numerusform>
            <numerusform>%1 · %n tokens</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>kiln::app::GenerationQueue</name>
    <message numerus="yes">
        <source> · %n images</source>
        <translation>
            <numerusform> · %n image</numerusform>
            <numerusform> · %n images</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>kiln::app::MainWindow</name>
    <message numerus="yes">
        <source>%n download(s) queued</source>
        <translation>
            <numerusform>%n download queued</numerusform>
            <numerusform>%n downloads queued</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>(%n more queued)</source>
        <translation>
            <numerusform>(%n more queued)</numerusform>
            <numerusform>(%n more queued)</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>kiln::app::ModelLibrary</name>
    <message numerus="yes">
        <source>Inspecting %n model(s)…</source>
        <translation>
            <numerusform>Inspecting %n model…</numerusform>
            <numerusform>Inspecting %n models…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Hashing %1 %2% (%n more waiting)</source>
        <translation>
            <numerusform>Hashing %1 %2% (%n more waiting)</numerusform>
            <numerusform>Hashing %1 %2% (%n more waiting)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Hashing %n model(s)…</source>
        <translation>
            <numerusform>Hashing %n model…</numerusform>
            <numerusform>Hashing %n models…</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>kiln::app::ModelsPage</name>
    <message numerus="yes">
        <source>Kiln looks for .safetensors, .ckpt, .pt, .pth and .bin files and diffusers folders, down to %n folder level(s) below each folder in the list.</source>
        <translation>
            <numerusform>Kiln looks for .safetensors, .ckpt, .pt, .pth and .bin files and diffusers folders, down to %n folder level below each folder in the list.</numerusform>
            <numerusform>Kiln looks for .safetensors, .ckpt, .pt, .pth and .bin files and diffusers folders, down to %n folder levels below each folder in the list.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n model(s)</source>
        <translation>
            <numerusform>%n model</numerusform>
            <numerusform>%n models</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1 of %n model(s)</source>
        <translation>
            <numerusform>%1 of %n model</numerusform>
            <numerusform>%1 of %n models</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n folder(s)</source>
        <translation>
            <numerusform>%n folder</numerusform>
            <numerusform>%n folders</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>kiln::app::PoseEditorPanel</name>
    <message numerus="yes">
        <source>Read %n person(s) from %1</source>
        <translation>
            <numerusform>Read %n person from %1</numerusform>
            <numerusform>Read %n people from %1</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Detected %n person(s)</source>
        <translation>
            <numerusform>Detected %n person</numerusform>
            <numerusform>Detected %n people</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>kiln::app::TrainPage</name>
    <message numerus="yes">
        <source>%n s</source>
        <translation>
            <numerusform>%n s</numerusform>
            <numerusform>%n s</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Finished: %n step(s). Extend to train more, or export.</source>
        <translation>
            <numerusform>Finished: %n step. Extend to train more, or export.</numerusform>
            <numerusform>Finished: %n steps. Extend to train more, or export.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n image(s) ready to train.</source>
        <translation>
            <numerusform>%n image ready to train.</numerusform>
            <numerusform>%n images ready to train.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>The exact prompt the text encoder sees for each of the %n image(s):</source>
        <translation>
            <numerusform>The exact prompt the text encoder sees for each of the %n image:</numerusform>
            <numerusform>The exact prompt the text encoder sees for each of the %n images:</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Extended by %n UNet step(s).</source>
        <translation>
            <numerusform>Extended by %n UNet step.</numerusform>
            <numerusform>Extended by %n UNet steps.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Finished: %n step(s). Export the model, or extend the training.</source>
        <translation>
            <numerusform>Finished: %n step. Export the model, or extend the training.</numerusform>
            <numerusform>Finished: %n steps. Export the model, or extend the training.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n checkpoint(s) kept</source>
        <translation>
            <numerusform>%n checkpoint kept</numerusform>
            <numerusform>%n checkpoints kept</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>kiln::app::XyzPlotDialog</name>
    <message numerus="yes">
        <source>%n image(s), then the grid.</source>
        <translation>
            <numerusform>%n image, then the grid.</numerusform>
            <numerusform>%n images, then the grid.</numerusform>
        </translation>
    </message>
</context>
</TS>
