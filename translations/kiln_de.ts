<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de">
<context>
    <name>ErrorMessage</name>
    <message>
        <source>Cannot read the file</source>
        <translation>Die Datei kann nicht gelesen werden</translation>
    </message>
    <message>
        <source>Kiln could not open or read a file it needs.</source>
        <translation>Kiln konnte eine benötigte Datei nicht öffnen oder lesen.</translation>
    </message>
    <message>
        <source>Kiln could not open or read “%1”. Check that it still exists and that you are allowed to read it.</source>
        <translation>Kiln konnte „%1“ nicht öffnen oder lesen. Prüfen Sie, ob die Datei noch vorhanden ist und Sie sie lesen dürfen.</translation>
    </message>
    <message>
        <source>Not a model Kiln can read</source>
        <translation>Kein Modell, das Kiln lesen kann</translation>
    </message>
    <message>
        <source>The data is damaged or in a format Kiln does not support.</source>
        <translation>Die Daten sind beschädigt oder in einem Format, das Kiln nicht unterstützt.</translation>
    </message>
    <message>
        <source>“%1” opens, but its content is damaged or in a format Kiln does not support.</source>
        <translation>„%1“ lässt sich öffnen, aber der Inhalt ist beschädigt oder in einem Format, das Kiln nicht unterstützt.</translation>
    </message>
    <message>
        <source>The weights do not fit</source>
        <translation>Die Gewichte passen nicht</translation>
    </message>
    <message>
        <source>The weights do not match the model they are meant for.</source>
        <translation>Die Gewichte passen nicht zu dem Modell, für das sie bestimmt sind.</translation>
    </message>
    <message>
        <source>The weights in “%1” do not match the model they are meant for.</source>
        <translation>Die Gewichte in „%1“ passen nicht zu dem Modell, für das sie bestimmt sind.</translation>
    </message>
    <message>
        <source>Impossible request</source>
        <translation>Nicht ausführbare Anfrage</translation>
    </message>
    <message>
        <source>This cannot be done as asked. The details say which setting is the problem.</source>
        <translation>Das lässt sich so nicht ausführen. Die Details nennen die Einstellung, an der es liegt.</translation>
    </message>
    <message>
        <source>Out of memory</source>
        <translation>Nicht genug Speicher</translation>
    </message>
    <message>
        <source>There was not enough memory to finish. Close other programs or choose a smaller size, then try again.</source>
        <translation>Der Speicher hat nicht gereicht. Schließen Sie andere Programme oder wählen Sie eine kleinere Größe und versuchen Sie es erneut.</translation>
    </message>
    <message>
        <source>File: %1</source>
        <translation>Datei: %1</translation>
    </message>
    <message>
        <source>Hint: %1</source>
        <translation>Hinweis: %1</translation>
    </message>
    <message>
        <source>There was not enough memory to read “%1”.</source>
        <translation>Der Speicher hat nicht gereicht, um „%1“ zu lesen.</translation>
    </message>
    <message>
        <source>Unexpected error</source>
        <translation>Unerwarteter Fehler</translation>
    </message>
    <message>
        <source>Something went wrong while reading “%1”.</source>
        <translation>Beim Lesen von „%1“ ist etwas schiefgegangen.</translation>
    </message>
    <message>
        <source>Cannot open</source>
        <translation>Nicht zu öffnen</translation>
    </message>
    <message>
        <source>Unreadable</source>
        <translation>Nicht lesbar</translation>
    </message>
    <message>
        <source>Weights do not fit</source>
        <translation>Gewichte passen nicht</translation>
    </message>
    <message>
        <source>The computation failed</source>
        <translation>Die Berechnung ist fehlgeschlagen</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Fehlgeschlagen</translation>
    </message>
    <message>
        <source>The engine stopped with an error while computing. The details say at which stage.</source>
        <translation>Die Engine hat beim Rechnen mit einem Fehler angehalten. Die Details nennen den Schritt.</translation>
    </message>
</context>
<context>
    <name>Main</name>
    <message>
        <source>Kiln: a desktop studio for personal Stable Diffusion models.</source>
        <translation>Kiln: ein Desktop-Studio für eigene Stable-Diffusion-Modelle.</translation>
    </message>
    <message>
        <source>Language of the interface, e.g. de or en (default: the system&apos;s; also $KILN_LANG).</source>
        <translation>Sprache der Oberfläche, z. B. de oder en (Standard: die des Systems; auch $KILN_LANG).</translation>
    </message>
    <message>
        <source>code</source>
        <translation>Kürzel</translation>
    </message>
    <message>
        <source>Light or dark look for this run: system, light or dark.</source>
        <translation>Helles oder dunkles Erscheinungsbild für diesen Start: system, light oder dark.</translation>
    </message>
    <message>
        <source>look</source>
        <translation>Aussehen</translation>
    </message>
    <message>
        <source>Size of the window, e.g. 1280x800.</source>
        <translation>Größe des Fensters, z. B. 1280x800.</translation>
    </message>
    <message>
        <source>WxH</source>
        <translation>BxH</translation>
    </message>
    <message>
        <source>Save a picture of the window to FILE (PNG) once the models are loaded, then quit.</source>
        <translation>Speichert ein Bild des Fensters in DATEI (PNG), sobald die Modelle geladen sind, und beendet sich dann.</translation>
    </message>
    <message>
        <source>FILE</source>
        <translation>DATEI</translation>
    </message>
    <message>
        <source>Folders to add to the model folders (a model file adds its folder).</source>
        <translation>Ordner, die zu den Modellordnern hinzukommen (bei einer Modelldatei ihr Ordner).</translation>
    </message>
    <message>
        <source>[FOLDER...]</source>
        <translation>[ORDNER...]</translation>
    </message>
    <message>
        <source>kiln: --window-size wants WIDTHxHEIGHT, e.g. 1280x800</source>
        <translation>kiln: --window-size erwartet BREITExHÖHE, z. B. 1280x800</translation>
    </message>
    <message>
        <source>kiln: %1: no such file or folder</source>
        <translation>kiln: %1: keine solche Datei und kein solcher Ordner</translation>
    </message>
    <message>
        <source>folders</source>
        <translation>ordner</translation>
    </message>
    <message>
        <source>page</source>
        <translation>seite</translation>
    </message>
    <message>
        <source>Prompt to put on the Generate page.</source>
        <translation>Prompt für die Seite „Erzeugen“.</translation>
    </message>
    <message>
        <source>text</source>
        <translation>text</translation>
    </message>
    <message>
        <source>Generate once the models are listed (with --screenshot: the picture is taken when the images are done).</source>
        <translation>Erzeugt, sobald die Modelle aufgelistet sind (mit --screenshot: das Bild wird aufgenommen, wenn die Bilder fertig sind).</translation>
    </message>
    <message>
        <source>Image to start from on the Generate page (image to image).</source>
        <translation>Ausgangsbild auf der Seite „Erzeugen“ (Bild zu Bild).</translation>
    </message>
    <message>
        <source>Mask for the --input image (white = repaint): opens Inpaint.</source>
        <translation>Maske für das Bild von --input (weiß = neu malen): öffnet Inpainting.</translation>
    </message>
    <message>
        <source>kiln: %1: not an image</source>
        <translation>kiln: %1: kein Bild</translation>
    </message>
    <message>
        <source>Dataset folder to open on the Dataset page.</source>
        <translation>Datensatzordner, der auf der Seite „Datensatz“ geöffnet wird.</translation>
    </message>
    <message>
        <source>FOLDER</source>
        <translation>ORDNER</translation>
    </message>
    <message>
        <source>Page to show: models, dataset, train or generate.</source>
        <translation>Anzuzeigende Seite: models, dataset, train oder generate.</translation>
    </message>
    <message>
        <source>Training session folder to open on the Train page.</source>
        <translation>Trainingssitzungsordner, der auf der Seite „Training“ geöffnet wird.</translation>
    </message>
    <message>
        <source>Start or resume the --training-session&apos;s training (with --screenshot: the picture is taken when it ends).</source>
        <translation>Startet oder setzt das Training von --training-session fort (mit --screenshot: das Bild wird aufgenommen, wenn es endet).</translation>
    </message>
    <message>
        <source>kiln: %1: not a training session</source>
        <translation>kiln: %1: keine Trainingssitzung</translation>
    </message>
    <message>
        <source>Print the versions of Kiln and LibTorch (CUDA, cuDNN) and the devices it sees, then exit.</source>
        <translation>Die Versionen von Kiln und LibTorch (CUDA, cuDNN) und die erkannten Geräte ausgeben, dann beenden.</translation>
    </message>
    <message>
        <source>Add a ControlNet unit on the Generate page: pose, scribble, a preprocessor (on the --input image) or PREPROCESSOR:FILE. Repeatable.</source>
        <translation>Eine ControlNet-Einheit auf der Seite „Generieren“ hinzufügen: pose, scribble, ein Präprozessor (auf dem --input-Bild) oder PRÄPROZESSOR:DATEI. Wiederholbar.</translation>
    </message>
    <message>
        <source>spec</source>
        <translation>angabe</translation>
    </message>
    <message>
        <source>Open the pose editor or the scribble of ControlNet unit N.</source>
        <translation>Den Pose-Editor oder die Skizze der ControlNet-Einheit N öffnen.</translation>
    </message>
    <message>
        <source>N</source>
        <translation>N</translation>
    </message>
    <message>
        <source>Drawing (black lines on white) for the scribble that --control-edit opens.</source>
        <translation>Zeichnung (schwarze Linien auf Weiß) für die Skizze, die --control-edit öffnet.</translation>
    </message>
    <message>
        <source>kiln: the ControlNet units could not be set up</source>
        <translation>kiln: Die ControlNet-Einheiten konnten nicht eingerichtet werden</translation>
    </message>
    <message>
        <source>Open the Get Models dialog (with --screenshot: the picture is of the dialog, at --window-size).</source>
        <translation>Den Dialog „Modelle holen“ öffnen (mit --screenshot: das Bild zeigt den Dialog, in --window-size).</translation>
    </message>
    <message>
        <source>On the Dataset page: &quot;missing&quot; captions the images without one with the saved endpoint (with --screenshot: the picture is taken while the last one is asked), &quot;endpoint&quot; opens the caption endpoint settings and tests the endpoint.</source>
        <translation>Auf der Datensatz-Seite: „missing“ beschriftet die Bilder ohne Beschriftung mit dem gespeicherten Endpunkt (mit --screenshot: das Bild wird aufgenommen, während die letzte angefragt wird), „endpoint“ öffnet die Einstellungen des Beschriftungs-Endpunkts und testet ihn.</translation>
    </message>
    <message>
        <source>what</source>
        <translation>was</translation>
    </message>
    <message>
        <source>kiln: --caption is missing or endpoint</source>
        <translation>kiln: --caption ist missing oder endpoint</translation>
    </message>
    <message>
        <source>With --training-session: Compare Checkpoints, the plot made without asking (with --screenshot: the picture once the grid is there).</source>
        <translation>Mit --training-session: Checkpoints vergleichen, der Plot ohne Rückfrage erstellt (mit --screenshot: das Bild, sobald das Raster da ist).</translation>
    </message>
    <message>
        <source>kiln: --compare-checkpoints needs a --training-session that keeps checkpoints</source>
        <translation>kiln: --compare-checkpoints braucht eine --training-session, die Checkpoints aufbewahrt</translation>
    </message>
    <message>
        <source>With --generate: upscale the new image with this ESRGAN-family model file (with --screenshot: the picture once the upscaled image is there).</source>
        <translation>Mit --generate: das neue Bild mit dieser Modelldatei der ESRGAN-Familie hochskalieren (mit --screenshot: das Bild, sobald das hochskalierte Bild da ist).</translation>
    </message>
    <message>
        <source>file</source>
        <translation>Datei</translation>
    </message>
    <message>
        <source>Open File &gt; API Server… (with --screenshot: the picture of the dialog).</source>
        <translation>Datei &gt; API-Server… öffnen (mit --screenshot: das Bild des Dialogs).</translation>
    </message>
</context>
<context>
    <name>ModelLabels</name>
    <message>
        <source>Stable Diffusion 1.x</source>
        <translation>Stable Diffusion 1.x</translation>
    </message>
    <message>
        <source>Stable Diffusion 2.x</source>
        <translation>Stable Diffusion 2.x</translation>
    </message>
    <message>
        <source>SDXL</source>
        <translation>SDXL</translation>
    </message>
    <message>
        <source>SDXL refiner</source>
        <translation>SDXL-Refiner</translation>
    </message>
    <message>
        <source>SD 1.x inpainting</source>
        <translation>SD 1.x Inpainting</translation>
    </message>
    <message>
        <source>SD 2.x inpainting</source>
        <translation>SD 2.x Inpainting</translation>
    </message>
    <message>
        <source>ControlNet (SD 1.x)</source>
        <translation>ControlNet (SD 1.x)</translation>
    </message>
    <message>
        <source>ControlNet (SD 2.x)</source>
        <translation>ControlNet (SD 2.x)</translation>
    </message>
    <message>
        <source>ControlNet (SDXL)</source>
        <translation>ControlNet (SDXL)</translation>
    </message>
    <message>
        <source>LoRA (SD 1.x)</source>
        <translation>LoRA (SD 1.x)</translation>
    </message>
    <message>
        <source>LoRA (SD 2.x)</source>
        <translation>LoRA (SD 2.x)</translation>
    </message>
    <message>
        <source>LoRA (SDXL)</source>
        <translation>LoRA (SDXL)</translation>
    </message>
    <message>
        <source>VAE</source>
        <translation>VAE</translation>
    </message>
    <message>
        <source>Text encoder</source>
        <translation>Text-Encoder</translation>
    </message>
    <message>
        <source>Diffusers names</source>
        <translation>Diffusers-Namen</translation>
    </message>
    <message>
        <source>Single-file names</source>
        <translation>Einzeldatei-Namen</translation>
    </message>
    <message>
        <source>Diffusers folder</source>
        <translation>Diffusers-Ordner</translation>
    </message>
    <message>
        <source>Epsilon</source>
        <translation>Epsilon</translation>
    </message>
    <message>
        <source>v-prediction</source>
        <translation>v-Vorhersage</translation>
    </message>
    <message>
        <source>Unknown</source>
        <translation>Unbekannt</translation>
    </message>
    <message>
        <source>%1 B</source>
        <comment>billion parameters</comment>
        <translation>%1 Mrd.</translation>
    </message>
    <message>
        <source>%1 M</source>
        <comment>million parameters</comment>
        <translation>%1 Mio.</translation>
    </message>
    <message>
        <source>%1 k</source>
        <comment>thousand parameters</comment>
        <translation>%1 Tsd.</translation>
    </message>
    <message>
        <source>Safetensors (diffusers)</source>
        <translation>Safetensors (Diffusers)</translation>
    </message>
    <message>
        <source>Safetensors</source>
        <translation>Safetensors</translation>
    </message>
    <message>
        <source>Checkpoint (diffusers)</source>
        <translation>Checkpoint (Diffusers)</translation>
    </message>
    <message>
        <source>Checkpoint</source>
        <translation>Checkpoint</translation>
    </message>
</context>
<context>
    <name>SessionArchive</name>
    <message>
        <source>the session has not run yet: its images were copied from %1</source>
        <translation>die Sitzung lief noch nicht: ihre Bilder wurden aus %1 kopiert</translation>
    </message>
    <message>
        <source>the session has no checkpoint yet: it starts from the beginning</source>
        <translation>die Sitzung hat noch keinen Checkpoint: sie beginnt von vorn</translation>
    </message>
    <message>
        <source>hashing the base model</source>
        <translation>Prüfsumme des Basismodells wird berechnet</translation>
    </message>
    <message>
        <source>looking for the base model: %1</source>
        <translation>Basismodell wird gesucht: %1</translation>
    </message>
    <message>
        <source>the archive has no copy of the images, and %1 is not here</source>
        <translation>das Archiv enthält keine Kopie der Bilder, und %1 gibt es hier nicht</translation>
    </message>
    <message>
        <source>the tokenizer folder %1 is not here</source>
        <translation>den Tokenizer-Ordner %1 gibt es hier nicht</translation>
    </message>
    <message>
        <source>the model config folder %1 is not here; set it again before training</source>
        <translation>den Modellkonfigurationsordner %1 gibt es hier nicht; vor dem Training neu festlegen</translation>
    </message>
</context>
<context>
    <name>TrainSession</name>
    <message>
        <source>Rough CUDA memory need: unknown for this kind of model.</source>
        <translation>Grober CUDA-Speicherbedarf: für diese Modellart unbekannt.</translation>
    </message>
    <message>
        <source>Rough CUDA memory need: %1 GB (fp32, batch %2).</source>
        <translation>Grober CUDA-Speicherbedarf: %1 GB (fp32, Batch %2).</translation>
    </message>
    <message numerus="yes">
        <source>%n image(s) have no caption file: their file name becomes the prompt.</source>
        <translation>
            <numerusform>%n Bild hat keine Beschriftungsdatei: sein Dateiname wird zum Prompt.</numerusform>
            <numerusform>%n Bilder haben keine Beschriftungsdatei: ihr Dateiname wird zum Prompt.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n image(s) are smaller than %1 px: they are scaled up (blurry).</source>
        <translation>
            <numerusform>%n Bild ist kleiner als %1 px: es wird hochskaliert (unscharf).</numerusform>
            <numerusform>%n Bilder sind kleiner als %1 px: sie werden hochskaliert (unscharf).</numerusform>
        </translation>
    </message>
    <message>
        <source>The model was trained at %1 px; training at %2 px may give worse results.</source>
        <translation>Das Modell wurde mit %1 px trainiert; Training mit %2 px kann schlechtere Ergebnisse liefern.</translation>
    </message>
</context>
<context>
    <name>kiln::app::ApiServerDialog</name>
    <message>
        <source>API Server</source>
        <translation>API-Server</translation>
    </message>
    <message>
        <source>Programs written for AUTOMATIC1111&apos;s web API (scripts using webuiapi, SillyTavern, Open WebUI, Krita and Photoshop plug-ins) can generate with Kiln. They share the Generate page&apos;s engine: one job at a time.</source>
        <translation>Programme für die Web-API von AUTOMATIC1111 (Skripte mit webuiapi, SillyTavern, Open WebUI, Krita- und Photoshop-Plug-ins) können mit Kiln generieren. Sie teilen sich die Engine der Seite „Generieren“: ein Auftrag nach dem anderen.</translation>
    </message>
    <message>
        <source>Serve the API while Kiln runs</source>
        <translation>Die API anbieten, solange Kiln läuft</translation>
    </message>
    <message>
        <source>127.0.0.1: this computer only. 0.0.0.0: every network this computer is on (set a password).</source>
        <translation>127.0.0.1: nur dieser Computer. 0.0.0.0: jedes Netz, in dem dieser Computer ist (ein Passwort setzen).</translation>
    </message>
    <message>
        <source>user:password (optional; several separated by commas)</source>
        <translation>benutzer:passwort (optional; mehrere durch Kommas getrennt)</translation>
    </message>
    <message>
        <source>web pages allowed to call it, e.g. http://localhost:8000 (optional)</source>
        <translation>Webseiten, die sie aufrufen dürfen, z. B. http://localhost:8000 (optional)</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>Adresse</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>Port</translation>
    </message>
    <message>
        <source>Credentials</source>
        <translation>Zugangsdaten</translation>
    </message>
    <message>
        <source>CORS origins</source>
        <translation>CORS-Ursprünge</translation>
    </message>
    <message>
        <source>Address: %1</source>
        <translation>Adresse: %1</translation>
    </message>
    <message>
        <source>Credentials: %1</source>
        <translation>Zugangsdaten: %1</translation>
    </message>
    <message>
        <source>Warning: without credentials anyone who can reach this computer can generate with it.</source>
        <translation>Warnung: Ohne Zugangsdaten kann jeder, der diesen Computer erreicht, damit generieren.</translation>
    </message>
    <message>
        <source>Clients connect to http://%1:%2</source>
        <translation>Clients verbinden sich mit http://%1:%2</translation>
    </message>
</context>
<context>
    <name>kiln::app::CaptionEndpointDialog</name>
    <message>
        <source>Caption Endpoint</source>
        <translation>Beschriftungs-Endpunkt</translation>
    </message>
    <message>
        <source>Custom</source>
        <translation>Eigener</translation>
    </message>
    <message>
        <source>The server&apos;s address up to and including /v1</source>
        <translation>Die Adresse des Servers bis einschließlich /v1</translation>
    </message>
    <message>
        <source>The model&apos;s id as the server lists it (Test Endpoint shows the list)</source>
        <translation>Die Kennung des Modells, wie der Server sie auflistet (Endpunkt testen zeigt die Liste)</translation>
    </message>
    <message>
        <source>none</source>
        <translation>keine</translation>
    </message>
    <message>
        <source>The name of the environment variable holding the API key. Kiln reads the key from the environment for each request and never stores it.</source>
        <translation>Der Name der Umgebungsvariable mit dem API-Schlüssel. Kiln liest den Schlüssel bei jeder Anfrage aus der Umgebung und speichert ihn nie.</translation>
    </message>
    <message>
        <source> s</source>
        <translation> s</translation>
    </message>
    <message>
        <source>How long one request may take, from sending to the last byte</source>
        <translation>Wie lange eine Anfrage dauern darf, vom Senden bis zum letzten Byte</translation>
    </message>
    <message>
        <source>Requests in flight at once (1 suits a server on this machine; halved after the server says it is busy)</source>
        <translation>Gleichzeitige Anfragen (1 passt zu einem Server auf diesem Rechner; halbiert, wenn der Server meldet, dass er ausgelastet ist)</translation>
    </message>
    <message>
        <source> px</source>
        <translation> px</translation>
    </message>
    <message>
        <source>The longest side of the JPEG sent (no metadata leaves the machine)</source>
        <translation>Die längste Seite des gesendeten JPEG (keine Metadaten verlassen den Rechner)</translation>
    </message>
    <message>
        <source>The longest answer asked for, in the model&apos;s tokens</source>
        <translation>Die längste erbetene Antwort, in Tokens des Modells</translation>
    </message>
    <message>
        <source>Test Endpoint</source>
        <translation>Endpunkt testen</translation>
    </message>
    <message>
        <source>List the server&apos;s models and send one small probe image</source>
        <translation>Die Modelle des Servers auflisten und ein kleines Probebild senden</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>Vorlage</translation>
    </message>
    <message>
        <source>Base URL</source>
        <translation>Basis-URL</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Modell</translation>
    </message>
    <message>
        <source>API key variable</source>
        <translation>Variable des API-Schlüssels</translation>
    </message>
    <message>
        <source>Timeout</source>
        <translation>Zeitlimit</translation>
    </message>
    <message>
        <source>Requests at once</source>
        <translation>Gleichzeitige Anfragen</translation>
    </message>
    <message>
        <source>Longest image side</source>
        <translation>Längste Bildseite</translation>
    </message>
    <message>
        <source>Max tokens</source>
        <translation>Max. Tokens</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>Temperatur</translation>
    </message>
    <message>
        <source>Any OpenAI-compatible chat-completions server with a vision model.</source>
        <translation>Jeder OpenAI-kompatible Chat-Completions-Server mit einem Bildmodell.</translation>
    </message>
    <message>
        <source>no key sent</source>
        <translation>kein Schlüssel gesendet</translation>
    </message>
    <message>
        <source>● set</source>
        <translation>● gesetzt</translation>
    </message>
    <message>
        <source>● not set</source>
        <translation>● nicht gesetzt</translation>
    </message>
    <message>
        <source>%1 is set in Kiln&apos;s environment</source>
        <translation>%1 ist in Kilns Umgebung gesetzt</translation>
    </message>
    <message>
        <source>%1 is not set: start Kiln from a shell where it is exported</source>
        <translation>%1 ist nicht gesetzt: starten Sie Kiln aus einer Shell, in der die Variable exportiert ist</translation>
    </message>
    <message>
        <source>Cannot test: %1</source>
        <translation>Test nicht möglich: %1</translation>
    </message>
    <message>
        <source>Testing…</source>
        <translation>Test läuft …</translation>
    </message>
    <message numerus="yes">
        <source>OK · %1 ms · %n model(s) listed</source>
        <translation>
            <numerusform>OK · %1 ms · %n Modell aufgelistet</numerusform>
            <numerusform>OK · %1 ms · %n Modelle aufgelistet</numerusform>
        </translation>
    </message>
    <message>
        <source>Check the fields: %1</source>
        <translation>Prüfen Sie die Felder: %1</translation>
    </message>
</context>
<context>
    <name>kiln::app::CaptionOptionsDialog</name>
    <message>
        <source>Captions from a Vision Model</source>
        <translation>Beschriftungen von einem Bildmodell</translation>
    </message>
    <message>
        <source>Subject: “token class”, then everything but the identity</source>
        <translation>Motiv: „Token Klasse“, dann alles außer der Identität</translation>
    </message>
    <message>
        <source>Style: the content, never the style</source>
        <translation>Stil: der Inhalt, nie der Stil</translation>
    </message>
    <message>
        <source>Tags: short comma-separated tags</source>
        <translation>Tags: kurze, durch Kommas getrennte Stichwörter</translation>
    </message>
    <message>
        <source>Custom template</source>
        <translation>Eigene Vorlage</translation>
    </message>
    <message>
        <source>Placeholders: {token} {class} {filename} {existing}</source>
        <translation>Platzhalter: {token} {class} {filename} {existing}</translation>
    </message>
    <message>
        <source>The instance token (the page&apos;s), named first in subject captions</source>
        <translation>Das Instanz-Token (das der Seite), in Motiv-Beschriftungen zuerst genannt</translation>
    </message>
    <message>
        <source>e.g. man, woman, dog</source>
        <translation>z. B. man, woman, dog</translation>
    </message>
    <message>
        <source>put before each caption</source>
        <translation>vor jede Beschriftung gesetzt</translation>
    </message>
    <message>
        <source>put after each caption</source>
        <translation>hinter jede Beschriftung gesetzt</translation>
    </message>
    <message>
        <source>Class</source>
        <translation>Klasse</translation>
    </message>
    <message>
        <source>Fill: only images without a caption</source>
        <translation>Füllen: nur Bilder ohne Beschriftung</translation>
    </message>
    <message>
        <source>Replace: new captions (yours are kept unless you agree)</source>
        <translation>Ersetzen: neue Beschriftungen (Ihre bleiben, außer Sie stimmen zu)</translation>
    </message>
    <message>
        <source>Append: the new text after the existing caption</source>
        <translation>Anhängen: der neue Text hinter der vorhandenen Beschriftung</translation>
    </message>
    <message>
        <source>Endpoint…</source>
        <translation>Endpunkt …</translation>
    </message>
    <message>
        <source>Endpoint</source>
        <translation>Endpunkt</translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation>Prompt</translation>
    </message>
    <message>
        <source>Token</source>
        <translation>Token</translation>
    </message>
    <message>
        <source>Prefix</source>
        <translation>Präfix</translation>
    </message>
    <message>
        <source>Suffix</source>
        <translation>Suffix</translation>
    </message>
    <message>
        <source>Mode</source>
        <translation>Modus</translation>
    </message>
    <message numerus="yes">
        <source>Caption %n Image(s)</source>
        <translation>
            <numerusform>%n Bild beschriften</numerusform>
            <numerusform>%n Bilder beschriften</numerusform>
        </translation>
    </message>
    <message>
        <source>%1 at %2</source>
        <translation>%1 bei %2</translation>
    </message>
    <message>
        <source>(no model)</source>
        <translation>(kein Modell)</translation>
    </message>
    <message>
        <source>Set up the endpoint first: %1</source>
        <translation>Richten Sie zuerst den Endpunkt ein: %1</translation>
    </message>
</context>
<context>
    <name>kiln::app::CatalogDialog</name>
    <message>
        <source>Get Models</source>
        <translation>Modelle holen</translation>
    </message>
    <message>
        <source>All</source>
        <translation>Alle</translation>
    </message>
    <message>
        <source>SD 1.5</source>
        <translation>SD 1.5</translation>
    </message>
    <message>
        <source>SD 2.x</source>
        <translation>SD 2.x</translation>
    </message>
    <message>
        <source>SDXL</source>
        <translation>SDXL</translation>
    </message>
    <message>
        <source>Preprocessor weights</source>
        <translation>Gewichte der Vorverarbeitung</translation>
    </message>
    <message>
        <source>&amp;Show:</source>
        <translation>&amp;Zeigen:</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Family</source>
        <translation>Familie</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Art</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>Größe</translation>
    </message>
    <message>
        <source>Licence</source>
        <translation>Lizenz</translation>
    </message>
    <message>
        <source>Installed</source>
        <translation>Installiert</translation>
    </message>
    <message>
        <source>&amp;Download</source>
        <translation>&amp;Herunterladen</translation>
    </message>
    <message>
        <source>Hugging Face or Civitai link, hf:…, civitai:… or URL</source>
        <translation>Hugging-Face- oder Civitai-Link, hf:…, civitai:… oder URL</translation>
    </message>
    <message>
        <source>Download &amp;Link</source>
        <translation>&amp;Link herunterladen</translation>
    </message>
    <message>
        <source>Or paste a link:</source>
        <translation>Oder einen Link einfügen:</translation>
    </message>
    <message>
        <source>SD 2.x (768-v)</source>
        <translation>SD 2.x (768-v)</translation>
    </message>
    <message>
        <source>SDXL refiner</source>
        <translation>SDXL-Refiner</translation>
    </message>
    <message>
        <source>Any</source>
        <translation>Beliebig</translation>
    </message>
    <message>
        <source>Checkpoint</source>
        <translation>Checkpoint</translation>
    </message>
    <message>
        <source>VAE</source>
        <translation>VAE</translation>
    </message>
    <message>
        <source>ControlNet</source>
        <translation>ControlNet</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>unbekannt</translation>
    </message>
    <message>
        <source>Downloads go to %1</source>
        <translation>Downloads landen in %1</translation>
    </message>
    <message>
        <source>Queued</source>
        <translation>Vorgemerkt</translation>
    </message>
    <message>
        <source>In the downloads</source>
        <translation>Bei den Downloads</translation>
    </message>
    <message>
        <source>Licence: %1</source>
        <translation>Lizenz: %1</translation>
    </message>
    <message>
        <source>size not published</source>
        <translation>Größe nicht veröffentlicht</translation>
    </message>
    <message>
        <source>no published sha256</source>
        <translation>kein veröffentlichter SHA-256</translation>
    </message>
    <message>
        <source>%1, %2. Source: %3</source>
        <translation>%1, %2. Quelle: %3</translation>
    </message>
    <message>
        <source>Where the size and hash come from: %1</source>
        <translation>Herkunft von Größe und Hash: %1</translation>
    </message>
    <message>
        <source>Already installed</source>
        <translation>Bereits installiert</translation>
    </message>
    <message>
        <source>Already in the downloads</source>
        <translation>Bereits bei den Downloads</translation>
    </message>
</context>
<context>
    <name>kiln::app::ControlNetPanel</name>
    <message>
        <source>ControlNet</source>
        <translation>ControlNet</translation>
    </message>
    <message>
        <source>Add Unit</source>
        <translation>Einheit hinzufügen</translation>
    </message>
    <message>
        <source>Add a ControlNet unit (up to %1): edges, depth, lines, a scribble or a pose guide the image</source>
        <translation>Eine ControlNet-Einheit hinzufügen (bis zu %1): Kanten, Tiefe, Linien, eine Skizze oder eine Pose lenken das Bild</translation>
    </message>
    <message>
        <source>No units. Add one to guide the image with a control map.</source>
        <translation>Keine Einheiten. Fügen Sie eine hinzu, um das Bild mit einer Steuerkarte zu lenken.</translation>
    </message>
    <message>
        <source>No %1 in the library</source>
        <translation>Kein %1 in der Bibliothek</translation>
    </message>
    <message>
        <source>ControlNet unit %1 cannot guide: %2</source>
        <translation>ControlNet-Einheit %1 kann nicht lenken: %2</translation>
    </message>
    <message>
        <source>Could not keep the ControlNet units&apos; pictures: %1</source>
        <translation>Die Bilder der ControlNet-Einheiten konnten nicht aufbewahrt werden: %1</translation>
    </message>
</context>
<context>
    <name>kiln::app::ControlUnitEditor</name>
    <message>
        <source>Needs %1 (%2)</source>
        <translation>Benötigt %1 (%2)</translation>
    </message>
    <message>
        <source>Use this unit when generating</source>
        <translation>Diese Einheit beim Generieren verwenden</translation>
    </message>
    <message>
        <source>Move the unit up</source>
        <translation>Einheit nach oben verschieben</translation>
    </message>
    <message>
        <source>Move the unit down</source>
        <translation>Einheit nach unten verschieben</translation>
    </message>
    <message>
        <source>Remove the unit</source>
        <translation>Einheit entfernen</translation>
    </message>
    <message>
        <source>Image file</source>
        <translation>Bilddatei</translation>
    </message>
    <message>
        <source>Input canvas</source>
        <translation>Eingabe-Leinwand</translation>
    </message>
    <message>
        <source>Last generated image</source>
        <translation>Zuletzt generiertes Bild</translation>
    </message>
    <message>
        <source>Clipboard</source>
        <translation>Zwischenablage</translation>
    </message>
    <message>
        <source>Scribble</source>
        <translation>Skizze</translation>
    </message>
    <message>
        <source>Pose</source>
        <translation>Pose</translation>
    </message>
    <message>
        <source>Where the control map comes from</source>
        <translation>Woher die Steuerkarte kommt</translation>
    </message>
    <message>
        <source>The ControlNet, from the Models page&apos;s folders (those made for the selected model&apos;s base)</source>
        <translation>Das ControlNet aus den Ordnern der Seite „Modelle“ (die für die Basis des gewählten Modells gemachten)</translation>
    </message>
    <message>
        <source>What turns the picture into a control map (“none”: the picture is the map)</source>
        <translation>Was das Bild in eine Steuerkarte verwandelt („none“: das Bild ist die Karte)</translation>
    </message>
    <message>
        <source>The preprocessor&apos;s resolution (short side, in pixels)</source>
        <translation>Die Auflösung des Präprozessors (kurze Seite, in Pixeln)</translation>
    </message>
    <message>
        <source>Pixel Perfect</source>
        <translation>Pixelgenau</translation>
    </message>
    <message>
        <source>Compute the resolution from the output size, as AUTOMATIC1111 does</source>
        <translation>Die Auflösung aus der Ausgabegröße berechnen, wie AUTOMATIC1111 es tut</translation>
    </message>
    <message>
        <source>How strongly the unit guides (its residuals are multiplied by this)</source>
        <translation>Wie stark die Einheit lenkt (ihre Residuen werden damit multipliziert)</translation>
    </message>
    <message>
        <source>Fraction of the steps where the unit starts guiding</source>
        <translation>Anteil der Schritte, ab dem die Einheit lenkt</translation>
    </message>
    <message>
        <source>Fraction of the steps where the unit stops guiding</source>
        <translation>Anteil der Schritte, ab dem die Einheit nicht mehr lenkt</translation>
    </message>
    <message>
        <source>Balanced</source>
        <translation>Ausgewogen</translation>
    </message>
    <message>
        <source>My prompt is more important</source>
        <translation>Mein Prompt ist wichtiger</translation>
    </message>
    <message>
        <source>ControlNet is more important</source>
        <translation>ControlNet ist wichtiger</translation>
    </message>
    <message>
        <source>How the unit weighs against the prompt</source>
        <translation>Wie die Einheit gegen den Prompt gewichtet wird</translation>
    </message>
    <message>
        <source>Just Resize</source>
        <translation>Nur skalieren</translation>
    </message>
    <message>
        <source>Crop and Resize</source>
        <translation>Zuschneiden und skalieren</translation>
    </message>
    <message>
        <source>Resize and Fill</source>
        <translation>Skalieren und auffüllen</translation>
    </message>
    <message>
        <source>How the map is fitted to the output size</source>
        <translation>Wie die Karte an die Ausgabegröße angepasst wird</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Modell</translation>
    </message>
    <message>
        <source>Preprocessor</source>
        <translation>Präprozessor</translation>
    </message>
    <message>
        <source>Resolution</source>
        <translation>Auflösung</translation>
    </message>
    <message>
        <source>Weight</source>
        <translation>Gewicht</translation>
    </message>
    <message>
        <source>Start / end</source>
        <translation>Start / Ende</translation>
    </message>
    <message>
        <source>Control</source>
        <translation>Steuerung</translation>
    </message>
    <message>
        <source>Resize</source>
        <translation>Anpassen</translation>
    </message>
    <message>
        <source>Unit %1</source>
        <translation>Einheit %1</translation>
    </message>
    <message>
        <source>Open…</source>
        <translation>Öffnen…</translation>
    </message>
    <message>
        <source>Open the picture to make the map from</source>
        <translation>Das Bild öffnen, aus dem die Karte entsteht</translation>
    </message>
    <message>
        <source>Take Again</source>
        <translation>Neu übernehmen</translation>
    </message>
    <message>
        <source>Take the picture again from its source</source>
        <translation>Das Bild erneut aus seiner Quelle übernehmen</translation>
    </message>
    <message>
        <source>Draw</source>
        <translation>Zeichnen</translation>
    </message>
    <message>
        <source>Draw the scribble on the input canvas (white lines on black are sent)</source>
        <translation>Die Skizze auf der Eingabe-Leinwand zeichnen (gesendet werden weiße Linien auf Schwarz)</translation>
    </message>
    <message>
        <source>Edit Pose</source>
        <translation>Pose bearbeiten</translation>
    </message>
    <message>
        <source>Edit the skeletons in the pose editor</source>
        <translation>Die Skelette im Pose-Editor bearbeiten</translation>
    </message>
    <message numerus="yes">
        <source>%n person(s), %1×%2</source>
        <translation>
            <numerusform>%n Person, %1×%2</numerusform>
            <numerusform>%n Personen, %1×%2</numerusform>
        </translation>
    </message>
    <message>
        <source>Nothing drawn yet</source>
        <translation>Noch nichts gezeichnet</translation>
    </message>
    <message>
        <source>%1×%2</source>
        <translation>%1×%2</translation>
    </message>
    <message>
        <source>%1 (%2×%3)</source>
        <translation>%1 (%2×%3)</translation>
    </message>
    <message>
        <source>No picture yet</source>
        <translation>Noch kein Bild</translation>
    </message>
    <message>
        <source>Kiln cannot read %1 as an image: %2</source>
        <translation>Kiln kann %1 nicht als Bild lesen: %2</translation>
    </message>
    <message>
        <source>Open Control Image</source>
        <translation>Steuerbild öffnen</translation>
    </message>
    <message>
        <source>Images (*.png *.jpg *.jpeg *.webp *.bmp)</source>
        <translation>Bilder (*.png *.jpg *.jpeg *.webp *.bmp)</translation>
    </message>
    <message>
        <source>input canvas</source>
        <translation>Eingabe-Leinwand</translation>
    </message>
    <message>
        <source>last image</source>
        <translation>letztes Bild</translation>
    </message>
    <message>
        <source>clipboard</source>
        <translation>Zwischenablage</translation>
    </message>
    <message>
        <source>Draw to make a map</source>
        <translation>Zeichnen Sie, um eine Karte zu erstellen</translation>
    </message>
    <message>
        <source>No map</source>
        <translation>Keine Karte</translation>
    </message>
    <message>
        <source>Control map, %1×%2</source>
        <translation>Steuerkarte, %1×%2</translation>
    </message>
    <message>
        <source>Computing…</source>
        <translation>Wird berechnet…</translation>
    </message>
    <message>
        <source>it has no ControlNet model</source>
        <translation>sie hat kein ControlNet-Modell</translation>
    </message>
    <message>
        <source>its map is still being computed</source>
        <translation>ihre Karte wird noch berechnet</translation>
    </message>
    <message>
        <source>nothing is drawn</source>
        <translation>es ist nichts gezeichnet</translation>
    </message>
    <message>
        <source>it has no picture</source>
        <translation>sie hat kein Bild</translation>
    </message>
    <message>
        <source>Show or hide the unit&apos;s settings</source>
        <translation>Die Einstellungen der Einheit ein- oder ausblenden</translation>
    </message>
    <message>
        <source>%1 (not in the library)</source>
        <translation>%1 (nicht in der Bibliothek)</translation>
    </message>
    <message>
        <source>Computing the map was cancelled; Generate computes it again.</source>
        <translation>Die Berechnung der Karte wurde abgebrochen; Erzeugen berechnet sie neu.</translation>
    </message>
    <message>
        <source>its ControlNet model “%1” is not in the library</source>
        <translation>ihr ControlNet-Modell „%1“ ist nicht in der Bibliothek</translation>
    </message>
    <message>
        <source>its ControlNet model “%1” is gone (moved or deleted)</source>
        <translation>ihr ControlNet-Modell „%1“ ist nicht mehr da (verschoben oder gelöscht)</translation>
    </message>
    <message>
        <source>computing its map was cancelled</source>
        <translation>die Berechnung ihrer Karte wurde abgebrochen</translation>
    </message>
    <message>
        <source>The ControlNet model “%1” of the last session is gone (moved or deleted); choose another.</source>
        <translation>Das ControlNet-Modell „%1“ der letzten Sitzung ist nicht mehr da (verschoben oder gelöscht); wählen Sie ein anderes.</translation>
    </message>
    <message>
        <source>The picture “%1” of the last session is gone (moved or deleted); open it again.</source>
        <translation>Das Bild „%1“ der letzten Sitzung ist nicht mehr da (verschoben oder gelöscht); öffnen Sie es erneut.</translation>
    </message>
    <message>
        <source>Kiln cannot read the picture “%1” any more; open it again.</source>
        <translation>Kiln kann das Bild „%1“ nicht mehr lesen; öffnen Sie es erneut.</translation>
    </message>
    <message>
        <source>The picture kept from the last session is gone; take it again.</source>
        <translation>Das aus der letzten Sitzung aufbewahrte Bild ist nicht mehr da; übernehmen Sie es erneut.</translation>
    </message>
    <message>
        <source>The scribble kept from the last session is gone; draw it again.</source>
        <translation>Die aus der letzten Sitzung aufbewahrte Skizze ist nicht mehr da; zeichnen Sie sie erneut.</translation>
    </message>
    <message>
        <source>The pose kept from the last session is gone</source>
        <translation>Die aus der letzten Sitzung aufbewahrte Pose ist nicht mehr da</translation>
    </message>
    <message>
        <source>Kiln cannot read the pose kept from the last session (%1)</source>
        <translation>Kiln kann die aus der letzten Sitzung aufbewahrte Pose nicht lesen (%1)</translation>
    </message>
    <message>
        <source>; the unit has the default pose.</source>
        <translation>; die Einheit hat die Standardpose.</translation>
    </message>
</context>
<context>
    <name>kiln::app::DatasetDelegate</name>
    <message>
        <source>Face</source>
        <translation>Gesicht</translation>
    </message>
    <message>
        <source>No face</source>
        <translation>Kein Gesicht</translation>
    </message>
    <message>
        <source>Too small</source>
        <translation>Zu klein</translation>
    </message>
    <message>
        <source>Duplicate</source>
        <translation>Doppelt</translation>
    </message>
    <message>
        <source>No caption</source>
        <translation>Keine Beschriftung</translation>
    </message>
    <message>
        <source>Auto</source>
        <translation>Auto</translation>
    </message>
    <message>
        <source>Edited</source>
        <translation>Bearbeitet</translation>
    </message>
    <message>
        <source>Reviewed</source>
        <translation>Geprüft</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Fehlgeschlagen</translation>
    </message>
    <message>
        <source>Refusal</source>
        <translation>Verweigert</translation>
    </message>
    <message>
        <source>Cut off</source>
        <translation>Abgeschnitten</translation>
    </message>
    <message>
        <source>Over 75 tokens</source>
        <translation>Über 75 Tokens</translation>
    </message>
    <message>
        <source>No token</source>
        <translation>Kein Token</translation>
    </message>
    <message>
        <source>Repeats</source>
        <translation>Wiederholt</translation>
    </message>
</context>
<context>
    <name>kiln::app::DatasetPage</name>
    <message>
        <source>Preparing %1 of %2 · %3</source>
        <translation>Bereite %1 von %2 vor · %3</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>Wird abgebrochen…</translation>
    </message>
    <message>
        <source>&amp;Open Dataset…</source>
        <translation>Datensatz ö&amp;ffnen…</translation>
    </message>
    <message>
        <source>Open a dataset folder, or choose an empty one for a new dataset</source>
        <translation>Einen Datensatzordner öffnen, oder einen leeren für einen neuen Datensatz wählen</translation>
    </message>
    <message>
        <source>&amp;Import Photos…</source>
        <translation>Fotos &amp;importieren…</translation>
    </message>
    <message>
        <source>Prepare photos into this dataset (Ctrl+I; or drop them here)</source>
        <translation>Fotos für diesen Datensatz vorbereiten (Strg+I; oder hier ablegen)</translation>
    </message>
    <message>
        <source>Import &amp;Folder…</source>
        <translation>&amp;Ordner importieren…</translation>
    </message>
    <message>
        <source>Prepare every photo of a folder and its subfolders</source>
        <translation>Alle Fotos eines Ordners und seiner Unterordner vorbereiten</translation>
    </message>
    <message>
        <source>Import &amp;Zip…</source>
        <translation>&amp;Zip importieren…</translation>
    </message>
    <message>
        <source>Prepare the photos of a .zip archive (checked before anything is written)</source>
        <translation>Die Fotos eines .zip-Archivs vorbereiten (geprüft, bevor etwas geschrieben wird)</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>&amp;Abbrechen</translation>
    </message>
    <message>
        <source>Stop the import after the photos being prepared now (Esc)</source>
        <translation>Den Import nach den gerade vorbereiteten Fotos beenden (Esc)</translation>
    </message>
    <message>
        <source>Reset Crop</source>
        <translation>Ausschnitt zurücksetzen</translation>
    </message>
    <message>
        <source>Put the crop back where Kiln proposed it (R)</source>
        <translation>Den Ausschnitt dorthin zurücksetzen, wo Kiln ihn vorgeschlagen hat (R)</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>Rückgängig</translation>
    </message>
    <message>
        <source>Undo the last crop or caption edit (Ctrl+Z)</source>
        <translation>Die letzte Änderung an Ausschnitt oder Beschriftung rückgängig machen (Strg+Z)</translation>
    </message>
    <message>
        <source>Redo</source>
        <translation>Wiederholen</translation>
    </message>
    <message>
        <source>Redo the edit undone last (Ctrl+Shift+Z)</source>
        <translation>Die zuletzt rückgängig gemachte Änderung wiederholen (Strg+Umschalt+Z)</translation>
    </message>
    <message>
        <source>No dataset open</source>
        <translation>Kein Datensatz geöffnet</translation>
    </message>
    <message>
        <source>A dataset is a folder of prepared photos: square crops around the faces, each with a caption. Choose a folder (an empty one starts a new dataset), or drop photos, a folder or a .zip here.</source>
        <translation>Ein Datensatz ist ein Ordner vorbereiteter Fotos: quadratische Ausschnitte um die Gesichter, jeder mit einer Beschriftung. Wählen Sie einen Ordner (ein leerer beginnt einen neuen Datensatz), oder legen Sie Fotos, einen Ordner oder ein .zip hier ab.</translation>
    </message>
    <message>
        <source>Choose Dataset Folder…</source>
        <translation>Datensatzordner wählen…</translation>
    </message>
    <message>
        <source>This dataset is empty</source>
        <translation>Dieser Datensatz ist leer</translation>
    </message>
    <message>
        <source>Drop photos, a folder or a .zip here, or import them. Kiln crops each one square around the faces and writes a caption beside it; the originals stay untouched.</source>
        <translation>Legen Sie Fotos, einen Ordner oder ein .zip hier ab, oder importieren Sie sie. Kiln schneidet jedes quadratisch um die Gesichter zu und schreibt eine Beschriftung daneben; die Originale bleiben unverändert.</translation>
    </message>
    <message>
        <source>Import Photos…</source>
        <translation>Fotos importieren…</translation>
    </message>
    <message>
        <source>e.g. phtmejhn</source>
        <translation>z. B. phtmejhn</translation>
    </message>
    <message>
        <source>The instance token: a rare word that will stand for your subject. New captions get it first, and the training prompt shows it.</source>
        <translation>Das Instanz-Token: ein seltenes Wort, das für Ihr Motiv stehen wird. Neue Beschriftungen beginnen damit, und der Trainings-Prompt zeigt es.</translation>
    </message>
    <message>
        <source> px</source>
        <translation> px</translation>
    </message>
    <message>
        <source>The side of the square images prepared from new photos</source>
        <translation>Die Seitenlänge der quadratischen Bilder, die aus neuen Fotos vorbereitet werden</translation>
    </message>
    <message>
        <source>Captions from file names</source>
        <translation>Beschriftungen aus Dateinamen</translation>
    </message>
    <message>
        <source>Photos without a .txt caption get their file name as caption (“phtmejhn (1).jpg” becomes “phtmejhn”)</source>
        <translation>Fotos ohne .txt-Beschriftung erhalten ihren Dateinamen als Beschriftung („phtmejhn (1).jpg“ wird zu „phtmejhn“)</translation>
    </message>
    <message>
        <source>Instance token</source>
        <translation>Instanz-Token</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>Größe</translation>
    </message>
    <message>
        <source>Select an image to see its crop</source>
        <translation>Wählen Sie ein Bild, um seinen Ausschnitt zu sehen</translation>
    </message>
    <message>
        <source>Drag the square to move it, its corners to resize it; arrows move it, + and - resize it. The image is made again from the original when you let go.</source>
        <translation>Ziehen Sie das Quadrat, um es zu verschieben, seine Ecken, um die Größe zu ändern; Pfeiltasten verschieben es, + und - ändern die Größe. Beim Loslassen wird das Bild neu aus dem Original erstellt.</translation>
    </message>
    <message>
        <source>Crop</source>
        <translation>Ausschnitt</translation>
    </message>
    <message>
        <source>No caption: training uses the file name</source>
        <translation>Keine Beschriftung: das Training verwendet den Dateinamen</translation>
    </message>
    <message>
        <source>The exact prompt training reads for this image: its caption, or without one its file name (fast-stable-diffusion&apos;s rule), with the instance token first</source>
        <translation>Der genaue Prompt, den das Training für dieses Bild liest: seine Beschriftung, oder ohne eine seinen Dateinamen (Regel von fast-stable-diffusion), mit dem Instanz-Token vorn</translation>
    </message>
    <message>
        <source>Edit many captions</source>
        <translation>Viele Beschriftungen bearbeiten</translation>
    </message>
    <message>
        <source>Selected images</source>
        <translation>Ausgewählte Bilder</translation>
    </message>
    <message>
        <source>All images</source>
        <translation>Alle Bilder</translation>
    </message>
    <message>
        <source>Add Instance Token</source>
        <translation>Instanz-Token hinzufügen</translation>
    </message>
    <message>
        <source>Put the instance token first in each caption that lacks it</source>
        <translation>Das Instanz-Token an den Anfang jeder Beschriftung setzen, der es fehlt</translation>
    </message>
    <message>
        <source>Find</source>
        <translation>Suchen</translation>
    </message>
    <message>
        <source>Replace with</source>
        <translation>Ersetzen durch</translation>
    </message>
    <message>
        <source>Replace</source>
        <translation>Ersetzen</translation>
    </message>
    <message>
        <source>Caption for images without one</source>
        <translation>Beschriftung für Bilder ohne eine</translation>
    </message>
    <message>
        <source>Fill Empty</source>
        <translation>Leere füllen</translation>
    </message>
    <message>
        <source>Apply to</source>
        <translation>Anwenden auf</translation>
    </message>
    <message>
        <source>Caption</source>
        <translation>Beschriftung</translation>
    </message>
    <message>
        <source>Training prompt</source>
        <translation>Trainings-Prompt</translation>
    </message>
    <message>
        <source>Cannot use this folder</source>
        <translation>Dieser Ordner kann nicht verwendet werden</translation>
    </message>
    <message>
        <source>Kiln could not create the folder “%1”.</source>
        <translation>Kiln konnte den Ordner „%1“ nicht anlegen.</translation>
    </message>
    <message>
        <source>Choose a Dataset Folder</source>
        <translation>Datensatzordner wählen</translation>
    </message>
    <message>
        <source>Import Photos</source>
        <translation>Fotos importieren</translation>
    </message>
    <message>
        <source>Images and archives (*.jpg *.jpeg *.png *.webp *.bmp *.tif *.tiff *.zip);;All files (*)</source>
        <translation>Bilder und Archive (*.jpg *.jpeg *.png *.webp *.bmp *.tif *.tiff *.zip);;Alle Dateien (*)</translation>
    </message>
    <message>
        <source>Import a Folder of Photos</source>
        <translation>Einen Ordner mit Fotos importieren</translation>
    </message>
    <message>
        <source>Import a Zip of Photos</source>
        <translation>Ein Zip mit Fotos importieren</translation>
    </message>
    <message>
        <source>Zip archives (*.zip)</source>
        <translation>Zip-Archive (*.zip)</translation>
    </message>
    <message>
        <source>Looking at the photos…</source>
        <translation>Fotos werden angesehen…</translation>
    </message>
    <message>
        <source>Preparing photos…</source>
        <translation>Fotos werden vorbereitet…</translation>
    </message>
    <message numerus="yes">
        <source>Import cancelled: %n photo(s) prepared</source>
        <translation>
            <numerusform>Import abgebrochen: %n Foto vorbereitet</numerusform>
            <numerusform>Import abgebrochen: %n Fotos vorbereitet</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Prepared %n photo(s)</source>
        <translation>
            <numerusform>%n Foto vorbereitet</numerusform>
            <numerusform>%n Fotos vorbereitet</numerusform>
        </translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message>
        <source>Import notes</source>
        <translation>Hinweise zum Import</translation>
    </message>
    <message>
        <source>See the details.</source>
        <translation>Siehe Details.</translation>
    </message>
    <message numerus="yes">
        <source>%n photo(s) could not be used</source>
        <translation>
            <numerusform>%n Foto konnte nicht verwendet werden</numerusform>
            <numerusform>%n Fotos konnten nicht verwendet werden</numerusform>
        </translation>
    </message>
    <message>
        <source>%1. The details say why for each.</source>
        <translation>%1. Die Details nennen jeweils den Grund.</translation>
    </message>
    <message>
        <source>Dataset</source>
        <translation>Datensatz</translation>
    </message>
    <message>
        <source>Reading the dataset…</source>
        <translation>Datensatz wird gelesen…</translation>
    </message>
    <message numerus="yes">
        <source>%n image(s)</source>
        <translation>
            <numerusform>%n Bild</numerusform>
            <numerusform>%n Bilder</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n with a face</source>
        <translation>
            <numerusform>%n mit Gesicht</numerusform>
            <numerusform>%n mit Gesicht</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n to look at</source>
        <translation>
            <numerusform>%n zum Ansehen</numerusform>
            <numerusform>%n zum Ansehen</numerusform>
        </translation>
    </message>
    <message>
        <source>Undo %1</source>
        <translation>%1 rückgängig machen</translation>
    </message>
    <message>
        <source>Redo %1</source>
        <translation>%1 wiederholen</translation>
    </message>
    <message>
        <source>Looks like a near-duplicate of %1</source>
        <translation>Sieht fast gleich aus wie %1</translation>
    </message>
    <message>
        <source>No crop information for this image</source>
        <translation>Keine Ausschnittsangaben für dieses Bild</translation>
    </message>
    <message>
        <source>Loading the original…</source>
        <translation>Original wird geladen…</translation>
    </message>
    <message>
        <source>%1 × %1 px at (%2, %3) of %4 × %5</source>
        <translation>%1 × %1 px bei (%2, %3) von %4 × %5</translation>
    </message>
    <message numerus="yes">
        <source>%n face(s)</source>
        <translation>
            <numerusform>%n Gesicht</numerusform>
            <numerusform>%n Gesichter</numerusform>
        </translation>
    </message>
    <message>
        <source>moved by hand</source>
        <translation>von Hand verschoben</translation>
    </message>
    <message>
        <source>The crop is where Kiln proposed it</source>
        <translation>Der Ausschnitt ist dort, wo Kiln ihn vorgeschlagen hat</translation>
    </message>
    <message>
        <source>Cannot reset the crop</source>
        <translation>Ausschnitt kann nicht zurückgesetzt werden</translation>
    </message>
    <message>
        <source>Cannot write the caption</source>
        <translation>Beschriftung kann nicht geschrieben werden</translation>
    </message>
    <message>
        <source>Kiln could not write the caption of “%1”.</source>
        <translation>Kiln konnte die Beschriftung von „%1“ nicht schreiben.</translation>
    </message>
    <message>
        <source>Caption Edit</source>
        <translation>Beschriftungsänderung</translation>
    </message>
    <message>
        <source>No instance token</source>
        <translation>Kein Instanz-Token</translation>
    </message>
    <message>
        <source>Type the instance token in the field above first.</source>
        <translation>Geben Sie zuerst das Instanz-Token im Feld oben ein.</translation>
    </message>
    <message>
        <source>Nothing to find</source>
        <translation>Nichts zu suchen</translation>
    </message>
    <message>
        <source>Type the text to find first.</source>
        <translation>Geben Sie zuerst den zu suchenden Text ein.</translation>
    </message>
    <message>
        <source>No caption to fill in</source>
        <translation>Keine Beschriftung zum Einfüllen</translation>
    </message>
    <message>
        <source>Type the caption for images without one first.</source>
        <translation>Geben Sie zuerst die Beschriftung für Bilder ohne eine ein.</translation>
    </message>
    <message>
        <source>No caption needed a change</source>
        <translation>Keine Beschriftung musste geändert werden</translation>
    </message>
    <message numerus="yes">
        <source>Edit of %n Caption(s)</source>
        <translation>
            <numerusform>Änderung von %n Beschriftung</numerusform>
            <numerusform>Änderung von %n Beschriftungen</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Changed %n caption(s)</source>
        <translation>
            <numerusform>%n Beschriftung geändert</numerusform>
            <numerusform>%n Beschriftungen geändert</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Removal of %n Image(s)</source>
        <translation>
            <numerusform>Entfernen von %n Bild</numerusform>
            <numerusform>Entfernen von %n Bildern</numerusform>
        </translation>
    </message>
    <message>
        <source>Cannot remove the images</source>
        <translation>Die Bilder lassen sich nicht entfernen</translation>
    </message>
    <message>
        <source>Cannot put the images back</source>
        <translation>Die Bilder lassen sich nicht zurücklegen</translation>
    </message>
    <message>
        <source>Some files could not be moved: %1</source>
        <translation>Einige Dateien ließen sich nicht verschieben: %1</translation>
    </message>
    <message>
        <source>Remove from Dataset</source>
        <translation>Aus dem Datensatz entfernen</translation>
    </message>
    <message>
        <source>Take the selected images out of the dataset; their files go to the folder&apos;s .removed folder and Undo brings them back (Delete)</source>
        <translation>Die gewählten Bilder aus dem Datensatz nehmen; ihre Dateien kommen in den Ordner .removed des Datensatzes, und Rückgängig holt sie zurück (Entf)</translation>
    </message>
    <message numerus="yes">
        <source>%n s left</source>
        <translation>
            <numerusform>noch %n s</numerusform>
            <numerusform>noch %n s</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n min left</source>
        <translation>
            <numerusform>noch %n min</numerusform>
            <numerusform>noch %n min</numerusform>
        </translation>
    </message>
    <message>
        <source>Caption Missing…</source>
        <translation>Fehlende beschriften …</translation>
    </message>
    <message>
        <source>Ask the vision model for a caption of each image without one</source>
        <translation>Das Bildmodell um eine Beschriftung für jedes Bild ohne Beschriftung bitten</translation>
    </message>
    <message>
        <source>Caption Selected…</source>
        <translation>Ausgewählte beschriften …</translation>
    </message>
    <message>
        <source>Ask the vision model for new captions of the selected images</source>
        <translation>Das Bildmodell um neue Beschriftungen der ausgewählten Bilder bitten</translation>
    </message>
    <message>
        <source>Retry Failed</source>
        <translation>Fehlgeschlagene wiederholen</translation>
    </message>
    <message>
        <source>Ask again for the selected images whose captioning failed</source>
        <translation>Für die ausgewählten Bilder, deren Beschriftung fehlschlug, erneut anfragen</translation>
    </message>
    <message>
        <source>Caption Endpoint…</source>
        <translation>Beschriftungs-Endpunkt …</translation>
    </message>
    <message>
        <source>The vision model&apos;s server: URL, model, API key variable</source>
        <translation>Der Server des Bildmodells: URL, Modell, Variable des API-Schlüssels</translation>
    </message>
    <message>
        <source>Accept Caption</source>
        <translation>Beschriftung annehmen</translation>
    </message>
    <message>
        <source>Mark this caption reviewed and go to the next one to review (Ctrl+Enter or Alt+A)</source>
        <translation>Diese Beschriftung als geprüft markieren und zur nächsten zu prüfenden gehen (Strg+Eingabe oder Alt+A)</translation>
    </message>
    <message>
        <source>Next Image</source>
        <translation>Nächstes Bild</translation>
    </message>
    <message>
        <source>Previous Image</source>
        <translation>Vorheriges Bild</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>Pausieren</translation>
    </message>
    <message>
        <source>Start no new requests; those in flight finish</source>
        <translation>Keine neuen Anfragen starten; laufende werden beendet</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Stop captioning; the captions written so far are kept and Caption Missing goes on</source>
        <translation>Beschriften beenden; die bisher geschriebenen Beschriftungen bleiben, und „Fehlende beschriften“ macht weiter</translation>
    </message>
    <message>
        <source>Caption by %1, not reviewed yet</source>
        <translation>Beschriftung von %1, noch nicht geprüft</translation>
    </message>
    <message>
        <source>Caption edited by you</source>
        <translation>Beschriftung von Ihnen bearbeitet</translation>
    </message>
    <message>
        <source>Caption reviewed</source>
        <translation>Beschriftung geprüft</translation>
    </message>
    <message>
        <source>Captioning failed: %1</source>
        <translation>Beschriften fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>Cannot save the caption records</source>
        <translation>Die Beschriftungsdaten können nicht gespeichert werden</translation>
    </message>
    <message>
        <source>No selected image failed</source>
        <translation>Bei keinem ausgewählten Bild ist etwas fehlgeschlagen</translation>
    </message>
    <message>
        <source>No image to caption</source>
        <translation>Kein Bild zu beschriften</translation>
    </message>
    <message>
        <source>Set up the caption endpoint first</source>
        <translation>Richten Sie zuerst den Beschriftungs-Endpunkt ein</translation>
    </message>
    <message>
        <source>Replace Your Captions?</source>
        <translation>Ihre Beschriftungen ersetzen?</translation>
    </message>
    <message numerus="yes">
        <source>%n caption(s) were written or edited by you. Replace them too?</source>
        <translation>
            <numerusform>%n Beschriftung wurde von Ihnen geschrieben oder bearbeitet. Auch ersetzen?</numerusform>
            <numerusform>%n Beschriftungen wurden von Ihnen geschrieben oder bearbeitet. Auch ersetzen?</numerusform>
        </translation>
    </message>
    <message>
        <source>Replace Them Too</source>
        <translation>Auch ersetzen</translation>
    </message>
    <message>
        <source>Keep Them</source>
        <translation>Behalten</translation>
    </message>
    <message>
        <source>Cannot caption</source>
        <translation>Beschriften nicht möglich</translation>
    </message>
    <message>
        <source>Every image has a caption</source>
        <translation>Jedes Bild hat eine Beschriftung</translation>
    </message>
    <message>
        <source>No caption to replace</source>
        <translation>Keine Beschriftung zu ersetzen</translation>
    </message>
    <message>
        <source>Captioning %1 of %2</source>
        <translation>Beschrifte %1 von %2</translation>
    </message>
    <message>
        <source>Paused at %1 of %2</source>
        <translation>Pausiert bei %1 von %2</translation>
    </message>
    <message>
        <source>%1 tokens used</source>
        <translation>%1 Tokens verbraucht</translation>
    </message>
    <message numerus="yes">
        <source>%n failed</source>
        <translation>
            <numerusform>%n fehlgeschlagen</numerusform>
            <numerusform>%n fehlgeschlagen</numerusform>
        </translation>
    </message>
    <message>
        <source>%1 prompt and %2 completion tokens so far</source>
        <translation>bisher %1 Prompt- und %2 Antwort-Tokens</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>Fortsetzen</translation>
    </message>
    <message>
        <source>Captioning stopped</source>
        <translation>Beschriften beendet</translation>
    </message>
    <message numerus="yes">
        <source>%1. %n caption(s) written before it stopped.</source>
        <translation>
            <numerusform>%1. %n Beschriftung vor dem Ende geschrieben.</numerusform>
            <numerusform>%1. %n Beschriftungen vor dem Ende geschrieben.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n image(s) could not be captioned</source>
        <translation>
            <numerusform>%n Bild konnte nicht beschriftet werden</numerusform>
            <numerusform>%n Bilder konnten nicht beschriftet werden</numerusform>
        </translation>
    </message>
    <message>
        <source>Select them and use Retry Failed; the details say why for each.</source>
        <translation>Wählen Sie sie aus und nutzen Sie „Fehlgeschlagene wiederholen“; die Details nennen den Grund für jedes.</translation>
    </message>
    <message numerus="yes">
        <source>Captioning cancelled: %n caption(s) written</source>
        <translation>
            <numerusform>Beschriften abgebrochen: %n Beschriftung geschrieben</numerusform>
            <numerusform>Beschriften abgebrochen: %n Beschriftungen geschrieben</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Wrote %n caption(s)</source>
        <translation>
            <numerusform>%n Beschriftung geschrieben</numerusform>
            <numerusform>%n Beschriftungen geschrieben</numerusform>
        </translation>
    </message>
    <message>
        <source>Every caption from the model is reviewed</source>
        <translation>Jede Beschriftung des Modells ist geprüft</translation>
    </message>
    <message>
        <source>More</source>
        <translation>Mehr</translation>
    </message>
    <message>
        <source>More caption actions</source>
        <translation>Weitere Beschriftungsaktionen</translation>
    </message>
</context>
<context>
    <name>kiln::app::DatasetWorker</name>
    <message>
        <source>%1: ignored %2 (not an image)</source>
        <translation>%1: %2 übergangen (kein Bild)</translation>
    </message>
</context>
<context>
    <name>kiln::app::DownloadsPanel</name>
    <message>
        <source>catalog</source>
        <translation>Katalog</translation>
    </message>
    <message>
        <source>the link</source>
        <translation>dem Link</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Dismiss</source>
        <translation>Entfernen</translation>
    </message>
    <message>
        <source>Downloads</source>
        <translation>Downloads</translation>
    </message>
    <message numerus="yes">
        <source>%n s left</source>
        <translation>
            <numerusform>noch %n s</numerusform>
            <numerusform>noch %n s</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n min left</source>
        <translation>
            <numerusform>noch %n min</numerusform>
            <numerusform>noch %n min</numerusform>
        </translation>
    </message>
    <message>
        <source>%1 h %2 min left</source>
        <translation>noch %1 h %2 min</translation>
    </message>
    <message>
        <source>%1 of %2</source>
        <translation>%1 von %2</translation>
    </message>
    <message>
        <source>%1/s</source>
        <translation>%1/s</translation>
    </message>
    <message>
        <source>Queued</source>
        <translation>In der Warteschlange</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>Wird geprüft…</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Verbinde…</translation>
    </message>
    <message>
        <source>Downloading</source>
        <translation>Wird heruntergeladen</translation>
    </message>
    <message>
        <source>Waiting to retry</source>
        <translation>Wartet auf neuen Versuch</translation>
    </message>
    <message>
        <source>Paused</source>
        <translation>Angehalten</translation>
    </message>
    <message>
        <source>Verified (sha256 from %1)</source>
        <translation>Geprüft (SHA-256 aus %1)</translation>
    </message>
    <message>
        <source>Finished (no published sha256 to check)</source>
        <translation>Fertig (kein veröffentlichter SHA-256 zum Prüfen)</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Fehlgeschlagen</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Abgebrochen</translation>
    </message>
    <message>
        <source>Cancel Download</source>
        <translation>Download abbrechen</translation>
    </message>
    <message>
        <source>Cancel the download of %1? The %2 downloaded so far are deleted.</source>
        <translation>Den Download von %1 abbrechen? Die bisher geladenen %2 werden gelöscht.</translation>
    </message>
    <message>
        <source>Keep Downloading</source>
        <translation>Weiter herunterladen</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>Anhalten</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>Fortsetzen</translation>
    </message>
</context>
<context>
    <name>kiln::app::GalleryModel</name>
    <message>
        <source>Seed %1, %2×%3</source>
        <translation>Seed %1, %2×%3</translation>
    </message>
</context>
<context>
    <name>kiln::app::GalleryPanel</name>
    <message>
        <source>Reuse Parameters</source>
        <translation>Parameter übernehmen</translation>
    </message>
    <message>
        <source>Put this image&apos;s prompt, seed and settings into the form</source>
        <translation>Prompt, Seed und Einstellungen dieses Bildes ins Formular übernehmen</translation>
    </message>
    <message>
        <source>Send to Image to Image</source>
        <translation>An „Bild zu Bild“ senden</translation>
    </message>
    <message>
        <source>To Img2img</source>
        <translation>Zu Bild→Bild</translation>
    </message>
    <message>
        <source>Start image-to-image from this image, with its parameters</source>
        <translation>Bild zu Bild von diesem Bild aus beginnen, mit seinen Parametern</translation>
    </message>
    <message>
        <source>Send to Inpaint</source>
        <translation>An „Inpainting“ senden</translation>
    </message>
    <message>
        <source>Save As…</source>
        <translation>Speichern unter…</translation>
    </message>
    <message>
        <source>Save…</source>
        <translation>Speichern…</translation>
    </message>
    <message>
        <source>Save the image as PNG with its parameters</source>
        <translation>Das Bild als PNG mit seinen Parametern speichern</translation>
    </message>
    <message>
        <source>Copy Image</source>
        <translation>Bild kopieren</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>Kopieren</translation>
    </message>
    <message>
        <source>Copy the image to the clipboard</source>
        <translation>Das Bild in die Zwischenablage kopieren</translation>
    </message>
    <message>
        <source>Copy Parameters</source>
        <translation>Parameter kopieren</translation>
    </message>
    <message>
        <source>Remove from Gallery</source>
        <translation>Aus der Galerie entfernen</translation>
    </message>
    <message>
        <source>Gallery</source>
        <translation>Galerie</translation>
    </message>
    <message>
        <source>The images you generate appear here, with the settings that made them.</source>
        <translation>Hier erscheinen die erzeugten Bilder mit den Einstellungen, die sie gemacht haben.</translation>
    </message>
    <message>
        <source>Select an image to see its parameters.</source>
        <translation>Ein Bild auswählen, um seine Parameter zu sehen.</translation>
    </message>
    <message>
        <source>Save Image</source>
        <translation>Bild speichern</translation>
    </message>
    <message>
        <source>PNG images (*.png)</source>
        <translation>PNG-Bilder (*.png)</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>%1 gespeichert</translation>
    </message>
    <message>
        <source>Could not save the image</source>
        <translation>Das Bild konnte nicht gespeichert werden</translation>
    </message>
    <message>
        <source>Kiln could not write %1.</source>
        <translation>Kiln konnte %1 nicht schreiben.</translation>
    </message>
    <message>
        <source>Copied the image</source>
        <translation>Bild kopiert</translation>
    </message>
    <message>
        <source>Copied the parameters</source>
        <translation>Parameter kopiert</translation>
    </message>
    <message>
        <source>Upscale…</source>
        <translation>Vergrößern …</translation>
    </message>
    <message>
        <source>Upscale the image with an ESRGAN-family model (.pth / .safetensors)</source>
        <translation>Das Bild mit einem Modell der ESRGAN-Familie vergrößern (.pth / .safetensors)</translation>
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
    <message>
        <source>%1:%2 min</source>
        <translation>%1:%2 min</translation>
    </message>
    <message>
        <source>&amp;Generate</source>
        <translation>&amp;Erzeugen</translation>
    </message>
    <message>
        <source>Generate images with these settings (Ctrl+Enter)</source>
        <translation>Bilder mit diesen Einstellungen erzeugen (Strg+Eingabe)</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>&amp;Abbrechen</translation>
    </message>
    <message>
        <source>Stop after the current step (Esc)</source>
        <translation>Nach dem laufenden Schritt anhalten (Esc)</translation>
    </message>
    <message>
        <source>Open Image…</source>
        <translation>Bild öffnen…</translation>
    </message>
    <message>
        <source>Open the image to start from (or drop one on the canvas)</source>
        <translation>Das Ausgangsbild öffnen (oder eines auf die Leinwand ziehen)</translation>
    </message>
    <message>
        <source>Brush</source>
        <translation>Pinsel</translation>
    </message>
    <message>
        <source>Paint the area to repaint (B; [ and ] change the size)</source>
        <translation>Den neu zu malenden Bereich markieren (B; [ und ] ändern die Größe)</translation>
    </message>
    <message>
        <source>Eraser</source>
        <translation>Radierer</translation>
    </message>
    <message>
        <source>Erase the mask (E)</source>
        <translation>Die Maske radieren (E)</translation>
    </message>
    <message>
        <source>Clear Mask</source>
        <translation>Maske leeren</translation>
    </message>
    <message>
        <source>Fit to View</source>
        <translation>In Ansicht einpassen</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>Rückgängig</translation>
    </message>
    <message>
        <source>Redo</source>
        <translation>Wiederholen</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>Bereit</translation>
    </message>
    <message>
        <source>Brush hardness: soft edge to hard edge</source>
        <translation>Pinselhärte: weicher bis harter Rand</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>Größe</translation>
    </message>
    <message>
        <source>Hardness</source>
        <translation>Härte</translation>
    </message>
    <message>
        <source>Drop an image here, or open one, to start from it</source>
        <translation>Ein Bild hierher ziehen oder öffnen, um davon auszugehen</translation>
    </message>
    <message>
        <source>Write a prompt and press Generate (Ctrl+Enter).
Drop a Kiln or AUTOMATIC1111 PNG here to read its parameters.</source>
        <translation>Prompt schreiben und „Erzeugen“ drücken (Strg+Eingabe).
Ein PNG von Kiln oder AUTOMATIC1111 hierher ziehen, um seine Parameter zu lesen.</translation>
    </message>
    <message>
        <source>Text to Image</source>
        <translation>Text zu Bild</translation>
    </message>
    <message>
        <source>Image to Image</source>
        <translation>Bild zu Bild</translation>
    </message>
    <message>
        <source>Inpaint</source>
        <translation>Inpainting</translation>
    </message>
    <message>
        <source>Add a model folder on the Models page first</source>
        <translation>Zuerst auf der Seite „Modelle“ einen Modellordner hinzufügen</translation>
    </message>
    <message>
        <source>Kiln has no sampler “%1”; the sampler is unchanged</source>
        <translation>Kiln kennt den Sampler „%1“ nicht; der Sampler bleibt unverändert</translation>
    </message>
    <message>
        <source>No input image</source>
        <translation>Kein Ausgangsbild</translation>
    </message>
    <message>
        <source>Open or drop the image to start from, or send one from the gallery.</source>
        <translation>Das Ausgangsbild öffnen oder hierher ziehen, oder eines aus der Galerie senden.</translation>
    </message>
    <message>
        <source>Nothing to repaint</source>
        <translation>Nichts neu zu malen</translation>
    </message>
    <message>
        <source>Paint over the part of the image to repaint with the brush.</source>
        <translation>Mit dem Pinsel über den Teil des Bildes malen, der neu gemalt werden soll.</translation>
    </message>
    <message>
        <source>Starting, seed %1…</source>
        <translation>Start, Seed %1…</translation>
    </message>
    <message>
        <source>Starting, random seed %1…</source>
        <translation>Start, zufälliger Seed %1…</translation>
    </message>
    <message>
        <source>Generating…</source>
        <translation>Erzeugen…</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>Wird abgebrochen…</translation>
    </message>
    <message>
        <source>Loading %1…</source>
        <translation>%1 wird geladen…</translation>
    </message>
    <message>
        <source>Reading the prompt…</source>
        <translation>Prompt wird gelesen…</translation>
    </message>
    <message>
        <source>Decoding the image…</source>
        <translation>Bild wird dekodiert…</translation>
    </message>
    <message>
        <source>Saving…</source>
        <translation>Wird gespeichert…</translation>
    </message>
    <message>
        <source>Run %1 of %2</source>
        <translation>Durchlauf %1 von %2</translation>
    </message>
    <message>
        <source>Step %1 of %2</source>
        <translation>Schritt %1 von %2</translation>
    </message>
    <message>
        <source>%1 it/s</source>
        <translation>%1 it/s</translation>
    </message>
    <message>
        <source>%1 s/it</source>
        <translation>%1 s/it</translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation>noch %1</translation>
    </message>
    <message>
        <source>Could not save the image</source>
        <translation>Das Bild konnte nicht gespeichert werden</translation>
    </message>
    <message>
        <source>The image is in the gallery but was not written to %1.</source>
        <translation>Das Bild ist in der Galerie, wurde aber nicht nach %1 geschrieben.</translation>
    </message>
    <message numerus="yes">
        <source>Done: %n image(s), seed %1</source>
        <translation>
            <numerusform>Fertig: %n Bild, Seed %1</numerusform>
            <numerusform>Fertig: %n Bilder, Seed %1</numerusform>
        </translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Fehlgeschlagen</translation>
    </message>
    <message numerus="yes">
        <source>Cancelled after %n image(s)</source>
        <translation>
            <numerusform>Abgebrochen nach %n Bild</numerusform>
            <numerusform>Abgebrochen nach %n Bildern</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Abgebrochen</translation>
    </message>
    <message>
        <source>The form now holds this image&apos;s parameters</source>
        <translation>Das Formular enthält jetzt die Parameter dieses Bildes</translation>
    </message>
    <message>
        <source>Not an image</source>
        <translation>Kein Bild</translation>
    </message>
    <message>
        <source>Kiln cannot read %1 as an image.</source>
        <translation>Kiln kann %1 nicht als Bild lesen.</translation>
    </message>
    <message>
        <source>Opened %1 as the input image</source>
        <translation>%1 als Ausgangsbild geöffnet</translation>
    </message>
    <message>
        <source>No parameters</source>
        <translation>Keine Parameter</translation>
    </message>
    <message>
        <source>%1 does not say how it was made (it has no “parameters” text).</source>
        <translation>%1 verrät nicht, wie es entstanden ist (es hat keinen „parameters“-Text).</translation>
    </message>
    <message>
        <source>Read the parameters of %1</source>
        <translation>Parameter von %1 gelesen</translation>
    </message>
    <message>
        <source>Open Image</source>
        <translation>Bild öffnen</translation>
    </message>
    <message>
        <source>Images (*.png *.jpg *.jpeg *.webp *.bmp)</source>
        <translation>Bilder (*.png *.jpg *.jpeg *.webp *.bmp)</translation>
    </message>
    <message>
        <source>Folder for Generated Images</source>
        <translation>Ordner für erzeugte Bilder</translation>
    </message>
    <message>
        <source>The result appears here.</source>
        <translation>Hier erscheint das Ergebnis.</translation>
    </message>
    <message>
        <source>Not in the library, left out: %1</source>
        <translation>Nicht in der Bibliothek, weggelassen: %1</translation>
    </message>
    <message>
        <source>Applying LoRAs…</source>
        <translation>LoRAs werden angewendet …</translation>
    </message>
    <message>
        <source>Draw the scribble (B; [ and ] change the size)</source>
        <translation>Die Skizze zeichnen (B; [ und ] ändern die Größe)</translation>
    </message>
    <message>
        <source>Erase the scribble (E)</source>
        <translation>Die Skizze radieren (E)</translation>
    </message>
    <message>
        <source>Draw the scribble on the canvas; press Done Drawing when it is finished</source>
        <translation>Zeichnen Sie die Skizze auf der Leinwand; klicken Sie auf „Zeichnen beenden“, wenn sie fertig ist</translation>
    </message>
    <message>
        <source>ControlNet unit not ready</source>
        <translation>ControlNet-Einheit nicht bereit</translation>
    </message>
    <message>
        <source>Loading ControlNet…</source>
        <translation>ControlNet wird geladen…</translation>
    </message>
    <message>
        <source>Clear Scribble</source>
        <translation>Skizze leeren</translation>
    </message>
    <message>
        <source>Done Drawing</source>
        <translation>Zeichnen beenden</translation>
    </message>
    <message>
        <source>Stop drawing the ControlNet scribble (the unit keeps it)</source>
        <translation>Das Zeichnen der ControlNet-Skizze beenden (die Einheit behält sie)</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>Einstellungen</translation>
    </message>
    <message>
        <source>ControlNet (%1)</source>
        <translation>ControlNet (%1)</translation>
    </message>
    <message>
        <source>ControlNet</source>
        <translation>ControlNet</translation>
    </message>
    <message>
        <source>Units that guide the image with edges, depth, lines, a scribble or a pose</source>
        <translation>Einheiten, die das Bild mit Kanten, Tiefe, Linien, einer Skizze oder einer Pose lenken</translation>
    </message>
    <message>
        <source>Size of the scribble pen in image pixels ([ and ]); the mask brush has its own</source>
        <translation>Größe des Skizzenstifts in Bildpixeln ([ und ]); der Maskenpinsel hat seine eigene</translation>
    </message>
    <message>
        <source>Size of the mask brush in image pixels ([ and ]); the scribble pen has its own</source>
        <translation>Größe des Maskenpinsels in Bildpixeln ([ und ]); der Skizzenstift hat seine eigene</translation>
    </message>
    <message>
        <source>Computing control map…</source>
        <translation>Steuerkarte wird berechnet…</translation>
    </message>
    <message>
        <source>Size set to %1 × %1, the native size of %2</source>
        <translation>Größe auf %1 × %1 gesetzt, die native Größe von %2</translation>
    </message>
    <message>
        <source>Queue</source>
        <translation>Einreihen</translation>
    </message>
    <message>
        <source>Add this to the queue: it runs when the jobs before it are done (Ctrl+Enter)</source>
        <translation>In die Warteschlange stellen: läuft, wenn die Aufträge davor fertig sind (Strg+Eingabe)</translation>
    </message>
    <message>
        <source>A control map is still being computed: queue again when it is ready</source>
        <translation>Eine Steuerkarte wird noch berechnet: reihen Sie erneut ein, wenn sie fertig ist</translation>
    </message>
    <message numerus="yes">
        <source>Added to the queue (%n waiting)</source>
        <translation>
            <numerusform>In die Warteschlange gestellt (%n wartet)</numerusform>
            <numerusform>In die Warteschlange gestellt (%n warten)</numerusform>
        </translation>
    </message>
    <message>
        <source>Cannot make the plot</source>
        <translation>Plot nicht möglich</translation>
    </message>
    <message>
        <source>Choose a model first.</source>
        <translation>Wählen Sie zuerst ein Modell.</translation>
    </message>
    <message>
        <source>A control map is still being computed; try again when it is ready.</source>
        <translation>Eine Steuerkarte wird noch berechnet; versuchen Sie es erneut, wenn sie fertig ist.</translation>
    </message>
    <message>
        <source>Choose at least one axis.</source>
        <translation>Wählen Sie mindestens eine Achse.</translation>
    </message>
    <message>
        <source>No model “%1” in the library (give its name as listed, or a path).</source>
        <translation>Kein Modell „%1“ in der Bibliothek (Namen wie aufgelistet oder einen Pfad angeben).</translation>
    </message>
    <message>
        <source>Kiln has no sampler “%1”.</source>
        <translation>Kiln hat keinen Sampler „%1“.</translation>
    </message>
    <message>
        <source>A LoRA weight axis needs a LoRA in the list.</source>
        <translation>Eine LoRA-Gewichtsachse braucht eine LoRA in der Liste.</translation>
    </message>
    <message>
        <source>“%1” is not in the prompt or the negative prompt.</source>
        <translation>„%1“ steht weder im Prompt noch im negativen Prompt.</translation>
    </message>
    <message>
        <source>A Large Plot</source>
        <translation>Ein großer Plot</translation>
    </message>
    <message>
        <source>This plot makes %1 images. Make them all?</source>
        <translation>Dieser Plot erzeugt %1 Bilder. Alle erzeugen?</translation>
    </message>
    <message numerus="yes">
        <source>X/Y/Z plot: %n image(s) queued</source>
        <translation>
            <numerusform>X/Y/Z-Plot: %n Bild eingereiht</numerusform>
            <numerusform>X/Y/Z-Plot: %n Bilder eingereiht</numerusform>
        </translation>
    </message>
    <message>
        <source>Could not save the plot</source>
        <translation>Der Plot konnte nicht gespeichert werden</translation>
    </message>
    <message>
        <source>The grid is in the gallery but was not written.</source>
        <translation>Das Raster ist in der Galerie, wurde aber nicht geschrieben.</translation>
    </message>
    <message>
        <source>X/Y/Z plot done</source>
        <translation>X/Y/Z-Plot fertig</translation>
    </message>
    <message>
        <source>The X/Y/Z plot stopped before its last image: no grid</source>
        <translation>Der X/Y/Z-Plot hat vor seinem letzten Bild aufgehört: kein Raster</translation>
    </message>
    <message>
        <source>The X/Y/Z plot lost queued images: no grid</source>
        <translation>Der X/Y/Z-Plot hat eingereihte Bilder verloren: kein Raster</translation>
    </message>
    <message numerus="yes">
        <source> · %n queued</source>
        <translation>
            <numerusform> · %n wartet</numerusform>
            <numerusform> · %n warten</numerusform>
        </translation>
    </message>
    <message>
        <source>Plot…</source>
        <translation>Plot …</translation>
    </message>
    <message>
        <source>X/Y/Z plot: these settings over up to three axes of values, in one labelled grid</source>
        <translation>X/Y/Z-Plot: diese Einstellungen über bis zu drei Wertachsen, in einem beschrifteten Raster</translation>
    </message>
    <message>
        <source>Up</source>
        <translation>Hoch</translation>
    </message>
    <message>
        <source>Run the selected job earlier</source>
        <translation>Den ausgewählten Auftrag früher ausführen</translation>
    </message>
    <message>
        <source>Down</source>
        <translation>Runter</translation>
    </message>
    <message>
        <source>Run the selected job later</source>
        <translation>Den ausgewählten Auftrag später ausführen</translation>
    </message>
    <message>
        <source>Repeat</source>
        <translation>Wiederholen</translation>
    </message>
    <message>
        <source>Queue the selected job once more (a new seed when its seed was random)</source>
        <translation>Den ausgewählten Auftrag noch einmal einreihen (mit neuem Seed, wenn sein Seed zufällig war)</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>Entfernen</translation>
    </message>
    <message>
        <source>Take the selected job out of the queue</source>
        <translation>Den ausgewählten Auftrag aus der Warteschlange nehmen</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>Leeren</translation>
    </message>
    <message>
        <source>Take every waiting job out of the queue</source>
        <translation>Alle wartenden Aufträge aus der Warteschlange nehmen</translation>
    </message>
    <message numerus="yes">
        <source>Queue: %n waiting</source>
        <translation>
            <numerusform>Warteschlange: %n wartet</numerusform>
            <numerusform>Warteschlange: %n warten</numerusform>
        </translation>
    </message>
    <message>
        <source>Choose an Upscaler Model</source>
        <translation>Vergrößerungsmodell wählen</translation>
    </message>
    <message>
        <source>ESRGAN-family models (*.pth *.safetensors)</source>
        <translation>Modelle der ESRGAN-Familie (*.pth *.safetensors)</translation>
    </message>
    <message>
        <source>Upscale</source>
        <translation>Vergrößern</translation>
    </message>
    <message>
        <source>Upscale by (0 = the model&apos;s own scale):</source>
        <translation>Vergrößern um (0 = der eigene Faktor des Modells):</translation>
    </message>
    <message>
        <source>Upscaling with %1…</source>
        <translation>Vergrößere mit %1 …</translation>
    </message>
    <message>
        <source>Upscaling failed</source>
        <translation>Vergrößern fehlgeschlagen</translation>
    </message>
    <message>
        <source>Upscaled to %1 × %2</source>
        <translation>Vergrößert auf %1 × %2</translation>
    </message>
    <message numerus="yes">
        <source>%1 · %n token(s)</source>
        <translation>
            <numerusform>%1 · %n Token</numerusform>
            <numerusform>%1 · %n Tokens</numerusform>
        </translation>
    </message>
    <message>
        <source>Embeddings not in any model folder&apos;s embeddings folder (the words stay in the prompt): %1</source>
        <translation>Embeddings in keinem Embeddings-Ordner eines Modellordners (die Wörter bleiben im Prompt): %1</translation>
    </message>
    <message>
        <source>The session keeps no checkpoint files.</source>
        <translation>Die Sitzung bewahrt keine Checkpoint-Dateien auf.</translation>
    </message>
    <message>
        <source>The checkpoint %1 is gone.</source>
        <translation>Der Checkpoint %1 ist nicht mehr vorhanden.</translation>
    </message>
    <message>
        <source>The session&apos;s base model %1 is not in the library: add its folder on the Models page.</source>
        <translation>Das Basismodell der Sitzung, %1, ist nicht in der Bibliothek: Fügen Sie seinen Ordner auf der Seite „Modelle“ hinzu.</translation>
    </message>
    <message>
        <source>Cannot compare the checkpoints</source>
        <translation>Die Checkpoints können nicht verglichen werden</translation>
    </message>
    <message>
        <source>No LoRA “%1” in the library (give its name as listed, or a path).</source>
        <translation>Keine LoRA „%1“ in der Bibliothek (geben Sie den angezeigten Namen oder einen Pfad an).</translation>
    </message>
    <message>
        <source>The session&apos;s base model %1 is still being read by the library; try again in a moment.</source>
        <translation>Das Basismodell der Sitzung, %1, wird von der Bibliothek noch gelesen; versuchen Sie es gleich noch einmal.</translation>
    </message>
    <message>
        <source>Waiting for the API server&apos;s request to finish…</source>
        <translation>Warten, bis die Anfrage an den API-Server fertig ist…</translation>
    </message>
    <message>
        <source>%1 recognised (%2): sampler %3, %4 steps, CFG scale %5. Change them if you like.</source>
        <translation>%1 erkannt (%2): Sampler %3, %4 Schritte, CFG-Skala %5. Ändern Sie sie nach Belieben.</translation>
    </message>
    <message>
        <source>its metadata&apos;s %1 &quot;%2&quot; says %3</source>
        <translation>seine Metadaten %1 „%2“ sagen %3</translation>
    </message>
    <message>
        <source>the name &quot;%1&quot; says %2</source>
        <translation>der Name „%1“ sagt %2</translation>
    </message>
    <message>
        <source>the folder name &quot;%1&quot; says %2</source>
        <translation>der Ordnername „%1“ sagt %2</translation>
    </message>
</context>
<context>
    <name>kiln::app::GenerationFormView</name>
    <message>
        <source>No model: add a folder on the Models page</source>
        <translation>Kein Modell: auf der Seite „Modelle“ einen Ordner hinzufügen</translation>
    </message>
    <message>
        <source>What to draw, e.g. a photo of a red fox in the snow, (golden hour:1.2)</source>
        <translation>Was gemalt werden soll, z. B. a photo of a red fox in the snow, (golden hour:1.2)</translation>
    </message>
    <message>
        <source>What to avoid, e.g. blurry, low quality</source>
        <translation>Was vermieden werden soll, z. B. blurry, low quality</translation>
    </message>
    <message>
        <source>How closely the image follows the prompt (classifier-free guidance)</source>
        <translation>Wie genau das Bild dem Prompt folgt (Classifier-free Guidance)</translation>
    </message>
    <message>
        <source>Random</source>
        <translation>Zufällig</translation>
    </message>
    <message>
        <source>Empty: a new random seed each time; a number gives the same image again</source>
        <translation>Leer: jedes Mal ein neuer zufälliger Seed; eine Zahl ergibt wieder dasselbe Bild</translation>
    </message>
    <message>
        <source>Random seed each time</source>
        <translation>Jedes Mal ein zufälliger Seed</translation>
    </message>
    <message>
        <source>Reuse the last seed</source>
        <translation>Den letzten Seed wiederverwenden</translation>
    </message>
    <message>
        <source> px</source>
        <translation> px</translation>
    </message>
    <message>
        <source>A multiple of 8</source>
        <translation>Ein Vielfaches von 8</translation>
    </message>
    <message>
        <source>Batch count: runs one after the other, with seed, seed + 1, …</source>
        <translation>Anzahl der Durchläufe, einer nach dem anderen, mit Seed, Seed + 1, …</translation>
    </message>
    <message>
        <source>Batch size: images drawn together in one run (more memory, faster per image)</source>
        <translation>Bilder pro Durchlauf, gemeinsam gezogen (mehr Speicher, schneller pro Bild)</translation>
    </message>
    <message>
        <source>Use the text encoder&apos;s output this many layers from the end (1 = the last layer)</source>
        <translation>Die Ausgabe des Text-Encoders so viele Schichten vor dem Ende verwenden (1 = die letzte Schicht)</translation>
    </message>
    <message>
        <source>How much of the input image is redrawn (1 = all of it)</source>
        <translation>Wie viel des Ausgangsbildes neu gemalt wird (1 = alles)</translation>
    </message>
    <message>
        <source>Sampler</source>
        <translation>Sampler</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>Schritte</translation>
    </message>
    <message>
        <source>CFG scale</source>
        <translation>CFG-Skala</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>Seed</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>Größe</translation>
    </message>
    <message>
        <source>Batches</source>
        <translation>Durchläufe</translation>
    </message>
    <message>
        <source>Clip skip</source>
        <translation>Clip Skip</translation>
    </message>
    <message>
        <source>Denoising</source>
        <translation>Entrauschen</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Modell</translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation>Prompt</translation>
    </message>
    <message>
        <source>Negative prompt</source>
        <translation>Negativer Prompt</translation>
    </message>
    <message>
        <source>Add…</source>
        <translation>Hinzufügen …</translation>
    </message>
    <message>
        <source>Add a LoRA: a style or subject trained for this model&apos;s base, merged in with the weight beside it (1 = full strength, 0 = off)</source>
        <translation>Ein LoRA hinzufügen: ein für die Basis dieses Modells trainierter Stil oder Gegenstand, mit dem Gewicht daneben eingerechnet (1 = volle Stärke, 0 = aus)</translation>
    </message>
    <message>
        <source>LoRAs</source>
        <translation>LoRAs</translation>
    </message>
    <message>
        <source>Weight: how strongly the LoRA changes the model (1 = as trained, 0 = off, negative = the opposite)</source>
        <translation>Gewicht: wie stark das LoRA das Modell verändert (1 = wie trainiert, 0 = aus, negativ = das Gegenteil)</translation>
    </message>
    <message>
        <source>Remove this LoRA</source>
        <translation>Dieses LoRA entfernen</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>Durchsuchen …</translation>
    </message>
    <message>
        <source>Add a LoRA</source>
        <translation>LoRA hinzufügen</translation>
    </message>
    <message>
        <source>LoRA files (*.safetensors *.pt *.ckpt *.bin)</source>
        <translation>LoRA-Dateien (*.safetensors *.pt *.ckpt *.bin)</translation>
    </message>
    <message>
        <source>Precision</source>
        <translation>Genauigkeit</translation>
    </message>
    <message>
        <source>Automatic (%1)</source>
        <translation>Automatisch (%1)</translation>
    </message>
    <message>
        <source>Not offered: this CPU does not compute bf16 natively (it has neither AVX512-BF16 nor AMX), so bf16 would run about 30 times slower than fp32.</source>
        <translation>Nicht angeboten: Diese CPU rechnet bf16 nicht nativ (sie hat weder AVX512-BF16 noch AMX), bf16 liefe daher etwa 30-mal langsamer als fp32.</translation>
    </message>
    <message>
        <source>Needs an NVIDIA GPU (CUDA): LibTorch&apos;s CPU kernels have no fp16 convolutions.</source>
        <translation>Braucht eine NVIDIA-GPU (CUDA): Die CPU-Kernel von LibTorch haben keine fp16-Faltungen.</translation>
    </message>
    <message>
        <source>Half the memory of fp32; images differ slightly from fp32.</source>
        <translation>Halb so viel Speicher wie fp32; die Bilder weichen leicht von fp32 ab.</translation>
    </message>
    <message>
        <source>Computed natively by this CPU: half the memory of fp32 and usually faster; images differ slightly from fp32.</source>
        <translation>Von dieser CPU nativ berechnet: halb so viel Speicher wie fp32 und meist schneller; die Bilder weichen leicht von fp32 ab.</translation>
    </message>
    <message>
        <source>Fast on the GPU with half the memory of fp32; images differ slightly from fp32.</source>
        <translation>Schnell auf der GPU, mit halb so viel Speicher wie fp32; die Bilder weichen leicht von fp32 ab.</translation>
    </message>
    <message>
        <source>Full precision: the reference images, and the most memory.</source>
        <translation>Volle Genauigkeit: die Referenzbilder, und der meiste Speicher.</translation>
    </message>
    <message>
        <source>Automatic uses %1 here. %2</source>
        <translation>Automatisch heißt hier %1. %2</translation>
    </message>
    <message>
        <source>bf16 is not offered: this CPU does not compute it natively.</source>
        <translation>bf16 wird nicht angeboten: Diese CPU rechnet es nicht nativ.</translation>
    </message>
    <message>
        <source>Auto</source>
        <translation>Auto</translation>
    </message>
    <message>
        <source>On</source>
        <translation>An</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>Aus</translation>
    </message>
    <message>
        <source>Decode (and encode) the image in overlapping tiles: far less memory for large images, very slightly different pixels. Auto tiles above 1536 × 1024 and when one piece runs out of memory.</source>
        <translation>Das Bild in überlappenden Kacheln dekodieren (und kodieren): viel weniger Speicher bei großen Bildern, minimal andere Pixel. Auto kachelt über 1536 × 1024 und wenn ein Stück nicht in den Speicher passt.</translation>
    </message>
    <message>
        <source>Tiled VAE</source>
        <translation>VAE gekachelt</translation>
    </message>
    <message>
        <source>Upscale by</source>
        <translation>Vergrößern um</translation>
    </message>
    <message>
        <source>Hires. fix: make the image at this size, upscale it, then refine it at the larger size (a second, image-to-image pass)</source>
        <translation>Hires. fix: das Bild in dieser Größe erzeugen, vergrößern und in der größeren Größe verfeinern (ein zweiter Durchgang Bild zu Bild)</translation>
    </message>
    <message>
        <source>Latent: the latents are resized (fast, adds detail); Lanczos / Nearest: the image is resized and encoded again</source>
        <translation>Latent: die Latents werden skaliert (schnell, ergänzt Details); Lanczos / Nearest: das Bild wird skaliert und erneut kodiert</translation>
    </message>
    <message>
        <source>Same as steps</source>
        <translation>Wie Schritte</translation>
    </message>
    <message>
        <source>Steps of the second pass; it runs steps × denoising of them</source>
        <translation>Schritte des zweiten Durchgangs; davon laufen Schritte × Entrauschen</translation>
    </message>
    <message>
        <source>How much the second pass may change the upscaled image</source>
        <translation>Wie stark der zweite Durchgang das vergrößerte Bild verändern darf</translation>
    </message>
    <message>
        <source>Hires. fix</source>
        <translation>Hires. fix</translation>
    </message>
    <message>
        <source>Upscaler</source>
        <translation>Vergrößerer</translation>
    </message>
    <message>
        <source>Hires steps</source>
        <translation>Hires-Schritte</translation>
    </message>
    <message>
        <source>Hires denoising</source>
        <translation>Hires-Entrauschen</translation>
    </message>
    <message>
        <source>Embeddings</source>
        <translation>Embeddings</translation>
    </message>
    <message>
        <source>Textual inversion embeddings from the model folders&apos; embeddings folders: a name in the prompt uses it (each vector counts as one token)</source>
        <translation>Textual-Inversion-Embeddings aus den Embeddings-Ordnern der Modellordner: ein Name im Prompt verwendet es (jeder Vektor zählt als ein Token)</translation>
    </message>
    <message>
        <source>%1 (not an embedding)</source>
        <translation>%1 (kein Embedding)</translation>
    </message>
    <message>
        <source>Cheap</source>
        <translation>Einfach</translation>
    </message>
    <message>
        <source>Choose a TAESD file</source>
        <translation>TAESD-Datei wählen</translation>
    </message>
    <message>
        <source>Fast decode</source>
        <translation>Schnell</translation>
    </message>
    <message>
        <source>Decode the final image with TAESD too: a fraction of the VAE&apos;s time, a little less fine detail (recorded as &quot;VAE Decoder: TAESD&quot;)</source>
        <translation>Auch das fertige Bild mit TAESD dekodieren: ein Bruchteil der Zeit des VAE, etwas weniger feine Details (vermerkt als „VAE Decoder: TAESD“)</translation>
    </message>
    <message>
        <source>Previews</source>
        <translation>Vorschau</translation>
    </message>
    <message>
        <source>Choose TAESD</source>
        <translation>TAESD wählen</translation>
    </message>
    <message>
        <source>TAESD files (*.safetensors *.pth *.pt *.bin)</source>
        <translation>TAESD-Dateien (*.safetensors *.pth *.pt *.bin)</translation>
    </message>
    <message>
        <source>What the picture shows while it is being made: a cheap colour approximation of the latents, or TAESD, the tiny autoencoder (taesd_decoder for SD 1.x/2.x, taesdxl_decoder for SDXL; files in a model folder&apos;s VAE-approx or vae_approx folder are listed), which shows the real picture; where it is slow, not after every step (previews take at most 5 % of the time)</source>
        <translation>Was das Bild zeigt, während es entsteht: eine einfache Farbnäherung der Latents oder TAESD, der kleine Autoencoder (taesd_decoder für SD 1.x/2.x, taesdxl_decoder für SDXL; Dateien im Ordner VAE-approx oder vae_approx eines Modellordners werden aufgeführt), der das echte Bild zeigt; wo er langsam ist, nicht nach jedem Schritt (Vorschauen brauchen höchstens 5 % der Zeit)</translation>
    </message>
</context>
<context>
    <name>kiln::app::GenerationQueue</name>
    <message>
        <source>%1 · %2 · %3 steps · seed %4%5</source>
        <translation>%1 · %2 · %3 Schritte · Seed %4%5</translation>
    </message>
    <message>
        <source>(no prompt)</source>
        <translation>(kein Prompt)</translation>
    </message>
    <message numerus="yes">
        <source> · %n images</source>
        <translation>
            <numerusform> · %n Bild</numerusform>
            <numerusform> · %n Bilder</numerusform>
        </translation>
    </message>
    <message>
        <source>%1
Model: %2
%3</source>
        <translation>%1
Modell: %2
%3</translation>
    </message>
    <message>
        <source>Text to image</source>
        <translation>Text zu Bild</translation>
    </message>
    <message>
        <source>Image to image</source>
        <translation>Bild zu Bild</translation>
    </message>
    <message>
        <source>Inpaint</source>
        <translation>Inpainting</translation>
    </message>
</context>
<context>
    <name>kiln::app::MainWindow</name>
    <message>
        <source>Pages</source>
        <translation>Seiten</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>Modelle</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1 (%2)</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Datei</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Ansicht</translation>
    </message>
    <message>
        <source>&amp;Appearance</source>
        <translation>&amp;Erscheinungsbild</translation>
    </message>
    <message>
        <source>Follow &amp;System</source>
        <translation>Wie das &amp;System</translation>
    </message>
    <message>
        <source>&amp;Light</source>
        <translation>&amp;Hell</translation>
    </message>
    <message>
        <source>&amp;Dark</source>
        <translation>&amp;Dunkel</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>&amp;Sprache</translation>
    </message>
    <message>
        <source>System Language</source>
        <translation>Sprache des Systems</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Hilfe</translation>
    </message>
    <message>
        <source>&amp;About Kiln</source>
        <translation>&amp;Über Kiln</translation>
    </message>
    <message>
        <source>About &amp;Qt</source>
        <translation>Über &amp;Qt</translation>
    </message>
    <message>
        <source>About Kiln</source>
        <translation>Über Kiln</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Kiln %1&lt;/h3&gt;&lt;p&gt;A desktop studio for personal Stable Diffusion models: prepare a dataset, fine-tune on your own GPU and generate.&lt;/p&gt;</source>
        <translation>&lt;h3&gt;Kiln %1&lt;/h3&gt;&lt;p&gt;Ein Desktop-Studio für eigene Stable-Diffusion-Modelle: Datensatz vorbereiten, auf der eigenen GPU feinabstimmen und Bilder erzeugen.&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Kiln will use the new language the next time it starts.</source>
        <translation>Kiln verwendet die neue Sprache ab dem nächsten Start.</translation>
    </message>
    <message>
        <source>Generate</source>
        <translation>Erzeugen</translation>
    </message>
    <message>
        <source>Dataset</source>
        <translation>Datensatz</translation>
    </message>
    <message>
        <source>Train</source>
        <translation>Training</translation>
    </message>
    <message>
        <source>Training is running</source>
        <translation>Das Training läuft</translation>
    </message>
    <message>
        <source>Quit Kiln? The training saves a checkpoint at the current step first; Resume continues exactly from there.</source>
        <translation>Kiln beenden? Das Training speichert zuerst einen Checkpoint beim aktuellen Schritt; Fortsetzen macht genau dort weiter.</translation>
    </message>
    <message>
        <source>Save and Quit</source>
        <translation>Speichern und beenden</translation>
    </message>
    <message>
        <source>Keep Training</source>
        <translation>Weitertrainieren</translation>
    </message>
    <message>
        <source>&lt;p&gt;Free software under the GNU General Public License, version 3 or later. Built with Qt %1.&lt;/p&gt;</source>
        <translation>&lt;p&gt;Freie Software unter der GNU General Public License, Version 3 oder später. Erstellt mit Qt %1.&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Show Downloads</source>
        <translation>Downloads zeigen</translation>
    </message>
    <message numerus="yes">
        <source>%n download(s) queued</source>
        <translation>
            <numerusform>%n Download wartet</numerusform>
            <numerusform>%n Downloads warten</numerusform>
        </translation>
    </message>
    <message>
        <source>Downloading %1: %2%</source>
        <translation>Lade %1 herunter: %2 %</translation>
    </message>
    <message>
        <source>Downloading %1</source>
        <translation>Lade %1 herunter</translation>
    </message>
    <message numerus="yes">
        <source>(%n more queued)</source>
        <translation>
            <numerusform>(%n weiterer wartet)</numerusform>
            <numerusform>(%n weitere warten)</numerusform>
        </translation>
    </message>
    <message>
        <source>Downloaded %1 (verified)</source>
        <translation>%1 heruntergeladen (geprüft)</translation>
    </message>
    <message>
        <source>Downloaded %1</source>
        <translation>%1 heruntergeladen</translation>
    </message>
    <message>
        <source>Download of %1 failed</source>
        <translation>Download von %1 fehlgeschlagen</translation>
    </message>
    <message>
        <source>API &amp;Server…</source>
        <translation>API-&amp;Server…</translation>
    </message>
    <message>
        <source>API server not started: %1</source>
        <translation>API-Server nicht gestartet: %1</translation>
    </message>
    <message>
        <source>cannot listen on %1:%2: %3</source>
        <translation>kann nicht auf %1:%2 lauschen: %3</translation>
    </message>
    <message>
        <source>API: off</source>
        <translation>API: aus</translation>
    </message>
    <message>
        <source>API: %1</source>
        <translation>API: %1</translation>
    </message>
    <message>
        <source>AUTOMATIC1111&apos;s API, without a password</source>
        <translation>API von AUTOMATIC1111, ohne Passwort</translation>
    </message>
    <message>
        <source>AUTOMATIC1111&apos;s API, with a password</source>
        <translation>API von AUTOMATIC1111, mit Passwort</translation>
    </message>
    <message>
        <source>API Server</source>
        <translation>API-Server</translation>
    </message>
    <message>
        <source>The API server could not start: %1</source>
        <translation>Der API-Server konnte nicht starten: %1</translation>
    </message>
</context>
<context>
    <name>kiln::app::ModelDetailsView</name>
    <message>
        <source>Select a model to see what Kiln knows about it.</source>
        <translation>Wählen Sie ein Modell, um zu sehen, was Kiln darüber weiß.</translation>
    </message>
    <message>
        <source>Family</source>
        <translation>Familie</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>Format</translation>
    </message>
    <message>
        <source>Key names</source>
        <translation>Schlüsselnamen</translation>
    </message>
    <message>
        <source>Prediction</source>
        <translation>Vorhersage</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>Größe</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>Parameter</translation>
    </message>
    <message>
        <source>Precision</source>
        <translation>Genauigkeit</translation>
    </message>
    <message>
        <source>Short hash</source>
        <translation>Kurz-Hash</translation>
    </message>
    <message>
        <source>AUTOMATIC1111&apos;s model hash: the first 10 hex digits of the SHA-256</source>
        <translation>Modell-Hash von AUTOMATIC1111: die ersten 10 Hex-Ziffern des SHA-256</translation>
    </message>
    <message>
        <source>SHA-256</source>
        <translation>SHA-256</translation>
    </message>
    <message>
        <source>Component</source>
        <translation>Komponente</translation>
    </message>
    <message>
        <source>Class</source>
        <translation>Klasse</translation>
    </message>
    <message>
        <source>Tensors</source>
        <translation>Tensoren</translation>
    </message>
    <message>
        <source>Key</source>
        <translation>Schlüssel</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>Wert</translation>
    </message>
    <message>
        <source>Reading the model’s headers…</source>
        <translation>Kopfdaten des Modells werden gelesen …</translation>
    </message>
    <message>
        <source>%1, from %2</source>
        <translation>%1, laut %2</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1 (%2)</translation>
    </message>
    <message>
        <source>Waiting to hash…</source>
        <translation>Wartet auf die Hash-Berechnung …</translation>
    </message>
    <message>
        <source>Hashing… %1%</source>
        <translation>Hash wird berechnet … %1 %</translation>
    </message>
    <message>
        <source>No weights to hash</source>
        <translation>Keine Gewichte zum Hashen</translation>
    </message>
    <message>
        <source>Components (%1)</source>
        <translation>Komponenten (%1)</translation>
    </message>
    <message>
        <source>Detection</source>
        <translation>Erkennung</translation>
    </message>
    <message>
        <source>Metadata (%1)</source>
        <translation>Metadaten (%1)</translation>
    </message>
    <message>
        <source>Warnings (%1)</source>
        <translation>Warnungen (%1)</translation>
    </message>
    <message>
        <source>The facts of the weights that the family was told from</source>
        <translation>Die Merkmale der Gewichte, an denen die Familie erkannt wurde</translation>
    </message>
    <message>
        <source>Hashed file</source>
        <translation>Gehashte Datei</translation>
    </message>
    <message>
        <source>A folder&apos;s hash is that of its UNet&apos;s weights, as other tools compute it</source>
        <translation>Der Hash eines Ordners ist der seiner UNet-Gewichte, wie ihn auch andere Werkzeuge berechnen</translation>
    </message>
    <message>
        <source>Unknown (not stored with the weights)</source>
        <translation>Unbekannt (nicht bei den Gewichten gespeichert)</translation>
    </message>
    <message>
        <source>A .yaml file of the same name beside the model can say it, as in AUTOMATIC1111 (parameterization: &quot;v&quot;).</source>
        <translation>Eine gleichnamige .yaml-Datei neben dem Modell kann sie angeben, wie bei AUTOMATIC1111 (parameterization: &quot;v&quot;).</translation>
    </message>
</context>
<context>
    <name>kiln::app::ModelLibrary</name>
    <message>
        <source>Looking for models…</source>
        <translation>Modelle werden gesucht …</translation>
    </message>
    <message numerus="yes">
        <source>Inspecting %n model(s)…</source>
        <translation>
            <numerusform>%n Modell wird untersucht …</numerusform>
            <numerusform>%n Modelle werden untersucht …</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Hashing %1 %2% (%n more waiting)</source>
        <translation>
            <numerusform>Hash von %1: %2 % (%n weiteres wartet)</numerusform>
            <numerusform>Hash von %1: %2 % (%n weitere warten)</numerusform>
        </translation>
    </message>
    <message>
        <source>Hashing %1 %2%</source>
        <translation>Hash von %1: %2 %</translation>
    </message>
    <message numerus="yes">
        <source>Hashing %n model(s)…</source>
        <translation>
            <numerusform>Hash für %n Modell wird berechnet …</numerusform>
            <numerusform>Hashes für %n Modelle werden berechnet …</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>kiln::app::ModelListModel</name>
    <message>
        <source>Inspecting…</source>
        <translation>Wird untersucht …</translation>
    </message>
    <message>
        <source>Hashing %1%</source>
        <translation>Hash %1 %</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>Bereit</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>Fehler</translation>
    </message>
    <message>
        <source>From %1</source>
        <translation>Laut %1</translation>
    </message>
    <message>
        <source>AUTOMATIC1111 short hash; SHA-256 %1</source>
        <translation>Kurz-Hash von AUTOMATIC1111; SHA-256 %1</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Family</source>
        <translation>Familie</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>Format</translation>
    </message>
    <message>
        <source>Prediction</source>
        <translation>Vorhersage</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>Größe</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>Parameter</translation>
    </message>
    <message>
        <source>Hash</source>
        <translation>Hash</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Queued</source>
        <translation>Wartet</translation>
    </message>
    <message>
        <source>Waiting for its turn to be hashed</source>
        <translation>Wartet, bis sein Hash berechnet wird</translation>
    </message>
</context>
<context>
    <name>kiln::app::ModelsPage</name>
    <message>
        <source>&amp;Add Model Folder…</source>
        <translation>&amp;Modellordner hinzufügen …</translation>
    </message>
    <message>
        <source>Add Folder…</source>
        <translation>Ordner hinzufügen …</translation>
    </message>
    <message>
        <source>Add a folder that holds models (Ctrl+O)</source>
        <translation>Einen Ordner mit Modellen hinzufügen (Strg+O)</translation>
    </message>
    <message>
        <source>&amp;Rescan Folders</source>
        <translation>Ordner neu &amp;durchsuchen</translation>
    </message>
    <message>
        <source>Rescan</source>
        <translation>Neu durchsuchen</translation>
    </message>
    <message>
        <source>Search the folders for models again (F5)</source>
        <translation>Die Ordner erneut nach Modellen durchsuchen (F5)</translation>
    </message>
    <message>
        <source>Open Containing Folder</source>
        <translation>Enthaltenden Ordner öffnen</translation>
    </message>
    <message>
        <source>Show in Folder</source>
        <translation>Im Ordner zeigen</translation>
    </message>
    <message>
        <source>Copy Path</source>
        <translation>Pfad kopieren</translation>
    </message>
    <message>
        <source>Copied the path</source>
        <translation>Pfad kopiert</translation>
    </message>
    <message>
        <source>Copy Short Hash</source>
        <translation>Kurz-Hash kopieren</translation>
    </message>
    <message>
        <source>Copy Hash</source>
        <translation>Hash kopieren</translation>
    </message>
    <message>
        <source>Copy AUTOMATIC1111&apos;s short hash (the first 10 hex digits of the SHA-256)</source>
        <translation>Den Kurz-Hash von AUTOMATIC1111 kopieren (die ersten 10 Hex-Ziffern des SHA-256)</translation>
    </message>
    <message>
        <source>Copied the short hash</source>
        <translation>Kurz-Hash kopiert</translation>
    </message>
    <message>
        <source>Copy SHA-256</source>
        <translation>SHA-256 kopieren</translation>
    </message>
    <message>
        <source>Copied the SHA-256</source>
        <translation>SHA-256 kopiert</translation>
    </message>
    <message>
        <source>Find</source>
        <translation>Suchen</translation>
    </message>
    <message>
        <source>Add your model folders</source>
        <translation>Modellordner hinzufügen</translation>
    </message>
    <message>
        <source>Add a folder that holds .safetensors/.ckpt files or diffusers folders. Kiln also looks in its sub-folders and keeps the list current as files come and go.</source>
        <translation>Fügen Sie einen Ordner mit .safetensors-/.ckpt-Dateien oder Diffusers-Ordnern hinzu. Kiln sucht auch in den Unterordnern und hält die Liste aktuell, wenn Dateien hinzukommen oder verschwinden.</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>Modelle</translation>
    </message>
    <message>
        <source>Filter by name, family or hash</source>
        <translation>Nach Name, Familie oder Hash filtern</translation>
    </message>
    <message>
        <source>Folders</source>
        <translation>Ordner</translation>
    </message>
    <message>
        <source>Add Model Folder</source>
        <translation>Modellordner hinzufügen</translation>
    </message>
    <message>
        <source>No models match “%1”</source>
        <translation>Keine Modelle passen zu „%1“</translation>
    </message>
    <message>
        <source>The filter looks at names, families, formats, hashes and paths.</source>
        <translation>Der Filter durchsucht Namen, Familien, Formate, Hashes und Pfade.</translation>
    </message>
    <message>
        <source>Clear Filter</source>
        <translation>Filter leeren</translation>
    </message>
    <message>
        <source>Looking for models…</source>
        <translation>Modelle werden gesucht …</translation>
    </message>
    <message>
        <source>No models in these folders</source>
        <translation>Keine Modelle in diesen Ordnern</translation>
    </message>
    <message numerus="yes">
        <source>Kiln looks for .safetensors, .ckpt, .pt, .pth and .bin files and diffusers folders, down to %n folder level(s) below each folder in the list.</source>
        <translation>
            <numerusform>Kiln sucht nach .safetensors-, .ckpt-, .pt-, .pth- und .bin-Dateien und Diffusers-Ordnern, bis %n Ordnerebene unter jedem Ordner der Liste.</numerusform>
            <numerusform>Kiln sucht nach .safetensors-, .ckpt-, .pt-, .pth- und .bin-Dateien und Diffusers-Ordnern, bis %n Ordnerebenen unter jedem Ordner der Liste.</numerusform>
        </translation>
    </message>
    <message>
        <source>Add Another Folder…</source>
        <translation>Weiteren Ordner hinzufügen …</translation>
    </message>
    <message numerus="yes">
        <source>%n model(s)</source>
        <translation>
            <numerusform>%n Modell</numerusform>
            <numerusform>%n Modelle</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1 of %n model(s)</source>
        <translation>
            <numerusform>%1 von %n Modell</numerusform>
            <numerusform>%1 von %n Modellen</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n folder(s)</source>
        <translation>
            <numerusform>%n Ordner</numerusform>
            <numerusform>%n Ordner</numerusform>
        </translation>
    </message>
    <message>
        <source>Could not open %1</source>
        <translation>%1 konnte nicht geöffnet werden</translation>
    </message>
    <message>
        <source>&amp;Get Models…</source>
        <translation>Modelle &amp;holen…</translation>
    </message>
    <message>
        <source>Get Models…</source>
        <translation>Modelle holen…</translation>
    </message>
    <message>
        <source>Download models from Kiln&apos;s catalog, Hugging Face, Civitai or a link</source>
        <translation>Modelle aus Kilns Katalog, von Hugging Face, Civitai oder über einen Link herunterladen</translation>
    </message>
    <message>
        <source>Get Stable Diffusion 1.5 (%1)</source>
        <translation>Stable Diffusion 1.5 holen (%1)</translation>
    </message>
    <message>
        <source>Get Stable Diffusion 1.5</source>
        <translation>Stable Diffusion 1.5 holen</translation>
    </message>
    <message>
        <source>Downloads go to a new folder, %1, added to your model folders</source>
        <translation>Downloads landen in einem neuen Ordner, %1, der zu Ihren Modellordnern hinzukommt</translation>
    </message>
    <message>
        <source>Could not create %1</source>
        <translation>%1 konnte nicht angelegt werden</translation>
    </message>
    <message>
        <source>Created the model folder %1 for the downloads</source>
        <translation>Modellordner %1 für die Downloads angelegt</translation>
    </message>
    <message>
        <source>Licence</source>
        <translation>Lizenz</translation>
    </message>
    <message>
        <source>&lt;p&gt;%1 is published under the %2 licence.&lt;/p&gt;&lt;p&gt;Read it and download only if you accept its terms. Kiln asks once for each licence.&lt;/p&gt;</source>
        <translation>&lt;p&gt;%1 steht unter der Lizenz %2.&lt;/p&gt;&lt;p&gt;Lesen Sie sie und laden Sie nur herunter, wenn Sie ihre Bedingungen annehmen. Kiln fragt je Lizenz einmal.&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Accept and Download</source>
        <translation>Annehmen und herunterladen</translation>
    </message>
    <message>
        <source>Add a folder that holds .safetensors/.ckpt files or diffusers folders, or download Stable Diffusion 1.5 to start with. Kiln also looks in the folders&apos; sub-folders and keeps the list current as files come and go.</source>
        <translation>Fügen Sie einen Ordner mit .safetensors-/.ckpt-Dateien oder Diffusers-Ordnern hinzu, oder laden Sie zum Einstieg Stable Diffusion 1.5 herunter. Kiln sucht auch in den Unterordnern und hält die Liste aktuell, wenn Dateien hinzukommen oder verschwinden.</translation>
    </message>
</context>
<context>
    <name>kiln::app::PoseEditorPanel</name>
    <message>
        <source>Import Pose</source>
        <translation>Pose importieren</translation>
    </message>
    <message>
        <source>Pose JSON (*.json)</source>
        <translation>Pose-JSON (*.json)</translation>
    </message>
    <message>
        <source>OpenPose JSON, AUTOMATIC1111 (*.json)</source>
        <translation>OpenPose-JSON, AUTOMATIC1111 (*.json)</translation>
    </message>
    <message>
        <source>POSE_KEYPOINT, ComfyUI (*.json)</source>
        <translation>POSE_KEYPOINT, ComfyUI (*.json)</translation>
    </message>
    <message>
        <source>Export Pose</source>
        <translation>Pose exportieren</translation>
    </message>
    <message>
        <source>Pose</source>
        <translation>Pose</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>Hinzufügen</translation>
    </message>
    <message>
        <source>Add a person (Insert)</source>
        <translation>Eine Person hinzufügen (Einfg)</translation>
    </message>
    <message>
        <source>Duplicate</source>
        <translation>Duplizieren</translation>
    </message>
    <message>
        <source>Duplicate the selected person (Ctrl+D)</source>
        <translation>Die gewählte Person duplizieren (Strg+D)</translation>
    </message>
    <message>
        <source>Mirror</source>
        <translation>Spiegeln</translation>
    </message>
    <message>
        <source>Swap the selected person&apos;s left and right (M)</source>
        <translation>Links und rechts der gewählten Person tauschen (M)</translation>
    </message>
    <message>
        <source>Reset</source>
        <translation>Zurücksetzen</translation>
    </message>
    <message>
        <source>Put the selected person back in the standing pose (R)</source>
        <translation>Die gewählte Person wieder in die stehende Pose bringen (R)</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>Entfernen</translation>
    </message>
    <message>
        <source>Remove the selected person (Delete)</source>
        <translation>Die gewählte Person entfernen (Entf)</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>Rückgängig</translation>
    </message>
    <message>
        <source>Redo</source>
        <translation>Wiederholen</translation>
    </message>
    <message>
        <source>Import…</source>
        <translation>Importieren…</translation>
    </message>
    <message>
        <source>Read an OpenPose JSON (AUTOMATIC1111) or POSE_KEYPOINT (ComfyUI) file</source>
        <translation>Eine OpenPose-JSON- (AUTOMATIC1111) oder POSE_KEYPOINT-Datei (ComfyUI) lesen</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>Exportieren…</translation>
    </message>
    <message>
        <source>Write the pose as OpenPose JSON (AUTOMATIC1111) or POSE_KEYPOINT (ComfyUI)</source>
        <translation>Die Pose als OpenPose-JSON (AUTOMATIC1111) oder POSE_KEYPOINT (ComfyUI) schreiben</translation>
    </message>
    <message>
        <source>Snap to Detected</source>
        <translation>Erkannte Pose übernehmen</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>Fertig</translation>
    </message>
    <message>
        <source>Close the pose editor (the unit keeps the pose)</source>
        <translation>Den Pose-Editor schließen (die Einheit behält die Pose)</translation>
    </message>
    <message>
        <source>Add a person to start</source>
        <translation>Fügen Sie eine Person hinzu, um zu beginnen</translation>
    </message>
    <message numerus="yes">
        <source>Read %n person(s) from %1</source>
        <translation>
            <numerusform>%n Person aus %1 gelesen</numerusform>
            <numerusform>%n Personen aus %1 gelesen</numerusform>
        </translation>
    </message>
    <message>
        <source>(hands, faces and animals are not edited here and were left out)</source>
        <translation>(Hände, Gesichter und Tiere werden hier nicht bearbeitet und wurden weggelassen)</translation>
    </message>
    <message>
        <source>Cannot read %1: %2</source>
        <translation>%1 kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>Wrote %1</source>
        <translation>%1 geschrieben</translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation>%1 kann nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>Detecting poses…</source>
        <translation>Posen werden erkannt…</translation>
    </message>
    <message>
        <source>Needs DWPose&apos;s yolox_l.onnx and dw-ll_ucoco_384.onnx (%1, Apache-2.0) in an annotator folder</source>
        <translation>Benötigt yolox_l.onnx und dw-ll_ucoco_384.onnx von DWPose (%1, Apache-2.0) in einem Annotator-Ordner</translation>
    </message>
    <message>
        <source>Needs a picture under the pose</source>
        <translation>Benötigt ein Bild unter der Pose</translation>
    </message>
    <message>
        <source>Replace the people with the bodies DWPose detects in the picture under the pose</source>
        <translation>Die Personen durch die Körper ersetzen, die DWPose im Bild unter der Pose erkennt</translation>
    </message>
    <message>
        <source>Cannot detect poses: %1</source>
        <translation>Posen können nicht erkannt werden: %1</translation>
    </message>
    <message>
        <source>Cannot detect poses: there is no picture under the pose</source>
        <translation>Posen können nicht erkannt werden: unter der Pose liegt kein Bild</translation>
    </message>
    <message>
        <source>No person detected in the picture; the pose is unchanged</source>
        <translation>Keine Person im Bild erkannt; die Pose bleibt unverändert</translation>
    </message>
    <message numerus="yes">
        <source>Detected %n person(s)</source>
        <translation>
            <numerusform>%n Person erkannt</numerusform>
            <numerusform>%n Personen erkannt</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>kiln::app::TrainCharts</name>
    <message>
        <source>Text encoder</source>
        <translation>Text-Encoder</translation>
    </message>
    <message>
        <source>Text encoder (smoothed)</source>
        <translation>Text-Encoder (geglättet)</translation>
    </message>
    <message>
        <source>UNet</source>
        <translation>UNet</translation>
    </message>
    <message>
        <source>UNet (smoothed)</source>
        <translation>UNet (geglättet)</translation>
    </message>
    <message>
        <source>Stage change</source>
        <translation>Stufenwechsel</translation>
    </message>
    <message>
        <source>Loss</source>
        <translation>Verlust</translation>
    </message>
    <message>
        <source>Learning rate</source>
        <translation>Lernrate</translation>
    </message>
    <message>
        <source>Steps per second</source>
        <translation>Schritte pro Sekunde</translation>
    </message>
    <message>
        <source>Memory (MB)</source>
        <translation>Speicher (MB)</translation>
    </message>
</context>
<context>
    <name>kiln::app::TrainFormView</name>
    <message>
        <source>Base model</source>
        <translation>Basismodell</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>Bilder</translation>
    </message>
    <message>
        <source>Token</source>
        <translation>Token</translation>
    </message>
    <message>
        <source>Prompts from</source>
        <translation>Prompts aus</translation>
    </message>
    <message>
        <source>Class prompt</source>
        <translation>Klassen-Prompt</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>Methode</translation>
    </message>
    <message>
        <source>Alpha</source>
        <translation>Alpha</translation>
    </message>
    <message>
        <source>LoRA rank</source>
        <translation>LoRA-Rang</translation>
    </message>
    <message>
        <source>at</source>
        <translation>mit</translation>
    </message>
    <message>
        <source>Text encoder</source>
        <translation>Text-Encoder</translation>
    </message>
    <message>
        <source>UNet</source>
        <translation>UNet</translation>
    </message>
    <message>
        <source>Batch</source>
        <translation>Batch</translation>
    </message>
    <message>
        <source>Resolution</source>
        <translation>Auflösung</translation>
    </message>
    <message>
        <source>Save every</source>
        <translation>Speichern alle</translation>
    </message>
    <message>
        <source>Sample every</source>
        <translation>Beispiele alle</translation>
    </message>
    <message>
        <source>Sample prompt</source>
        <translation>Beispiel-Prompt</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>Gerät</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>Seed</translation>
    </message>
    <message>
        <source>Model and images</source>
        <translation>Modell und Bilder</translation>
    </message>
    <message>
        <source>Stages (steps at learning rate)</source>
        <translation>Stufen (Schritte mit Lernrate)</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>Lauf</translation>
    </message>
    <message>
        <source>Choose a model file or diffusers folder that is not in the library</source>
        <translation>Eine Modelldatei oder einen Diffusers-Ordner wählen, der nicht in der Bibliothek ist</translation>
    </message>
    <message>
        <source>Model File…</source>
        <translation>Modelldatei …</translation>
    </message>
    <message>
        <source>Diffusers Folder…</source>
        <translation>Diffusers-Ordner …</translation>
    </message>
    <message>
        <source>Choose the folder of training images</source>
        <translation>Den Ordner der Trainingsbilder wählen</translation>
    </message>
    <message>
        <source>Folder of training images</source>
        <translation>Ordner der Trainingsbilder</translation>
    </message>
    <message>
        <source>The rare word that will mean your subject, added to every prompt</source>
        <translation>Das seltene Wort, das für Ihr Motiv stehen wird; es kommt in jeden Prompt</translation>
    </message>
    <message>
        <source>Caption files (.txt)</source>
        <translation>Beschriftungsdateien (.txt)</translation>
    </message>
    <message>
        <source>File names</source>
        <translation>Dateinamen</translation>
    </message>
    <message>
        <source>Optional: e.g. “photo of a person” (prior preservation)</source>
        <translation>Optional: z. B. „photo of a person“ (Prior Preservation)</translation>
    </message>
    <message>
        <source>Size of the LoRA adapters (4–32 is usual)</source>
        <translation>Größe der LoRA-Adapter (4–32 ist üblich)</translation>
    </message>
    <message>
        <source>Stage ends only</source>
        <translation>Nur am Stufenende</translation>
    </message>
    <message>
        <source> steps</source>
        <translation> Schritte</translation>
    </message>
    <message>
        <source>Never</source>
        <translation>Nie</translation>
    </message>
    <message>
        <source>e.g. photo of sks person, portrait</source>
        <translation>z. B. photo of sks person, portrait</translation>
    </message>
    <message>
        <source>Stage 1: the text encoder learns the token; 0 skips it</source>
        <translation>Stufe 1: Der Text-Encoder lernt das Token; 0 überspringt sie</translation>
    </message>
    <message>
        <source>Stage 2: the UNet learns the subject; 0 skips it</source>
        <translation>Stufe 2: Das UNet lernt das Motiv; 0 überspringt sie</translation>
    </message>
    <message>
        <source>Choose the Base Model</source>
        <translation>Basismodell wählen</translation>
    </message>
    <message>
        <source>Models (*.safetensors *.ckpt)</source>
        <translation>Modelle (*.safetensors *.ckpt)</translation>
    </message>
    <message>
        <source>Choose a Diffusers Folder</source>
        <translation>Diffusers-Ordner wählen</translation>
    </message>
    <message>
        <source>Choose the Training Images</source>
        <translation>Trainingsbilder wählen</translation>
    </message>
    <message>
        <source>LoRA: steps for text-encoder adapters; 0 trains the UNet only</source>
        <translation>LoRA: Schritte für die Text-Encoder-Adapter; 0 trainiert nur das UNet</translation>
    </message>
    <message>
        <source>Precision</source>
        <translation>Genauigkeit</translation>
    </message>
    <message>
        <source>fp32</source>
        <translation>fp32</translation>
    </message>
    <message>
        <source>fp16 mixed</source>
        <translation>fp16 gemischt</translation>
    </message>
    <message>
        <source>bf16 mixed</source>
        <translation>bf16 gemischt</translation>
    </message>
    <message>
        <source>CUDA only: compute in half precision with fp32 master weights (less memory, faster)</source>
        <translation>Nur CUDA: in halber Genauigkeit rechnen, mit fp32-Hauptgewichten (weniger Speicher, schneller)</translation>
    </message>
    <message>
        <source>Gradient checkpointing</source>
        <translation>Gradient-Checkpointing</translation>
    </message>
    <message>
        <source>Recompute activations in the backward pass: less memory, about a third slower</source>
        <translation>Aktivierungen im Rückwärtsdurchlauf neu berechnen: weniger Speicher, etwa ein Drittel langsamer</translation>
    </message>
    <message>
        <source>Keep</source>
        <translation>Behalten</translation>
    </message>
    <message>
        <source>None</source>
        <translation>Keine</translation>
    </message>
    <message>
        <source> newest</source>
        <translation> neueste</translation>
    </message>
    <message>
        <source>Checkpoints kept as model files (a LoRA: LoRA files) to compare with “Compare Checkpoints…”; a whole model takes about 2 GB (SD 1.5) to 7 GB (SDXL) each</source>
        <translation>Als Modelldateien (bei LoRA: LoRA-Dateien) aufbewahrte Checkpoints zum Vergleich mit „Checkpoints vergleichen…“; ein ganzes Modell belegt jeweils etwa 2 GB (SD 1.5) bis 7 GB (SDXL)</translation>
    </message>
    <message>
        <source>Optimizer</source>
        <translation>Optimierer</translation>
    </message>
    <message>
        <source>AdamW</source>
        <translation>AdamW</translation>
    </message>
    <message>
        <source>8-bit AdamW (less memory)</source>
        <translation>8-Bit-AdamW (weniger Speicher)</translation>
    </message>
    <message>
        <source>Adafactor (least memory)</source>
        <translation>Adafactor (am wenigsten Speicher)</translation>
    </message>
    <message>
        <source>AdamW keeps 8 bytes of state for every trained weight; 8-bit AdamW (bitsandbytes&apos; block-wise quantised moments) 2 bytes, nearly the same updates; Adafactor almost none, with different updates. Fixed for a session once it has started.</source>
        <translation>AdamW hält 8 Byte Zustand je trainiertem Gewicht; 8-Bit-AdamW (blockweise quantisierte Momente wie bitsandbytes) 2 Byte, mit nahezu gleichen Schritten; Adafactor fast keinen, mit anderen Schritten. Steht für eine Sitzung fest, sobald sie begonnen hat.</translation>
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
    <message>
        <source>%1:%2 min</source>
        <translation>%1:%2 min</translation>
    </message>
    <message>
        <source>%1:%2 h</source>
        <translation>%1:%2 h</translation>
    </message>
    <message>
        <source>&amp;Start</source>
        <translation>&amp;Starten</translation>
    </message>
    <message>
        <source>Start training, or resume from the last checkpoint (Ctrl+Enter)</source>
        <translation>Training starten oder ab dem letzten Checkpoint fortsetzen (Strg+Eingabe)</translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation>&amp;Pause</translation>
    </message>
    <message>
        <source>Save a checkpoint and pause; Resume continues exactly (Ctrl+P)</source>
        <translation>Einen Checkpoint speichern und pausieren; Fortsetzen macht genau dort weiter (Strg+P)</translation>
    </message>
    <message>
        <source>Stop &amp;&amp; Save</source>
        <translation>Stoppen &amp;&amp; speichern</translation>
    </message>
    <message>
        <source>Save a checkpoint and stop (Esc)</source>
        <translation>Einen Checkpoint speichern und stoppen (Esc)</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>Pause</translation>
    </message>
    <message>
        <source>New…</source>
        <translation>Neu …</translation>
    </message>
    <message>
        <source>Create a training session in a new folder</source>
        <translation>Eine Trainingssitzung in einem neuen Ordner anlegen</translation>
    </message>
    <message>
        <source>Open…</source>
        <translation>Öffnen …</translation>
    </message>
    <message>
        <source>Open a training session folder</source>
        <translation>Einen Trainingssitzungsordner öffnen</translation>
    </message>
    <message>
        <source>No session yet</source>
        <translation>Noch keine Sitzung</translation>
    </message>
    <message>
        <source>The session folder: settings, checkpoints, samples and charts</source>
        <translation>Der Sitzungsordner: Einstellungen, Checkpoints, Beispiele und Diagramme</translation>
    </message>
    <message>
        <source>Extend by</source>
        <translation>Verlängern um</translation>
    </message>
    <message>
        <source>Export as</source>
        <translation>Exportieren als</translation>
    </message>
    <message>
        <source>Extend</source>
        <translation>Verlängern</translation>
    </message>
    <message>
        <source>Add this many UNet steps and continue training</source>
        <translation>So viele UNet-Schritte hinzufügen und weitertrainieren</translation>
    </message>
    <message>
        <source> steps</source>
        <translation> Schritte</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>Exportieren …</translation>
    </message>
    <message>
        <source>Write the trained model (or LoRA) to a file that the Models page lists</source>
        <translation>Das trainierte Modell (oder LoRA) in eine Datei schreiben, die die Seite „Modelle“ anzeigt</translation>
    </message>
    <message>
        <source>File format of the export</source>
        <translation>Dateiformat des Exports</translation>
    </message>
    <message>
        <source>Half-precision weights: half the size</source>
        <translation>Gewichte in halber Genauigkeit: halbe Größe</translation>
    </message>
    <message>
        <source>No training session</source>
        <translation>Keine Trainingssitzung</translation>
    </message>
    <message>
        <source>Fill in the settings on the left, then create a session folder. Kiln keeps the settings, checkpoints, samples and charts there, so training can pause and resume.</source>
        <translation>Füllen Sie links die Einstellungen aus und legen Sie dann einen Sitzungsordner an. Kiln bewahrt dort Einstellungen, Checkpoints, Beispiele und Diagramme auf, damit das Training pausieren und fortgesetzt werden kann.</translation>
    </message>
    <message>
        <source>New Session…</source>
        <translation>Neue Sitzung …</translation>
    </message>
    <message>
        <source>Log</source>
        <translation>Protokoll</translation>
    </message>
    <message>
        <source>Prompts</source>
        <translation>Prompts</translation>
    </message>
    <message>
        <source>Image</source>
        <translation>Bild</translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation>Prompt</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>Fortsetzen</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>Starten</translation>
    </message>
    <message>
        <source>Not trained yet.</source>
        <translation>Noch nicht trainiert.</translation>
    </message>
    <message numerus="yes">
        <source>Finished: %n step(s). Extend to train more, or export.</source>
        <translation>
            <numerusform>Fertig: %n Schritt. Verlängern Sie, um weiterzutrainieren, oder exportieren Sie.</numerusform>
            <numerusform>Fertig: %n Schritte. Verlängern Sie, um weiterzutrainieren, oder exportieren Sie.</numerusform>
        </translation>
    </message>
    <message>
        <source>Checkpoint at step %1 of %2: Resume continues from there.</source>
        <translation>Checkpoint bei Schritt %1 von %2: Fortsetzen macht dort weiter.</translation>
    </message>
    <message numerus="yes">
        <source>%n image(s) ready to train.</source>
        <translation>
            <numerusform>%n Bild bereit zum Training.</numerusform>
            <numerusform>%n Bilder bereit zum Training.</numerusform>
        </translation>
    </message>
    <message>
        <source>From the caption file</source>
        <translation>Aus der Beschriftungsdatei</translation>
    </message>
    <message>
        <source>From the file name</source>
        <translation>Aus dem Dateinamen</translation>
    </message>
    <message>
        <source>No images found yet.</source>
        <translation>Noch keine Bilder gefunden.</translation>
    </message>
    <message numerus="yes">
        <source>The exact prompt the text encoder sees for each of the %n image(s):</source>
        <translation>
            <numerusform>Der genaue Prompt, den der Text-Encoder für das %n Bild sieht:</numerusform>
            <numerusform>Der genaue Prompt, den der Text-Encoder für jedes der %n Bilder sieht:</numerusform>
        </translation>
    </message>
    <message>
        <source>Choose an Empty Folder for the Session</source>
        <translation>Einen leeren Ordner für die Sitzung wählen</translation>
    </message>
    <message>
        <source>Open a Training Session</source>
        <translation>Eine Trainingssitzung öffnen</translation>
    </message>
    <message>
        <source>Step %1 of %2</source>
        <translation>Schritt %1 von %2</translation>
    </message>
    <message>
        <source>Ready to start</source>
        <translation>Bereit zum Start</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>Wird gestartet …</translation>
    </message>
    <message>
        <source>Pausing: saving a checkpoint…</source>
        <translation>Pausieren: Checkpoint wird gespeichert …</translation>
    </message>
    <message>
        <source>Stopping: saving a checkpoint…</source>
        <translation>Stoppen: Checkpoint wird gespeichert …</translation>
    </message>
    <message numerus="yes">
        <source>Extended by %n UNet step(s).</source>
        <translation>
            <numerusform>Um %n UNet-Schritt verlängert.</numerusform>
            <numerusform>Um %n UNet-Schritte verlängert.</numerusform>
        </translation>
    </message>
    <message>
        <source>Step %1</source>
        <translation>Schritt %1</translation>
    </message>
    <message>
        <source>Step %1: %2</source>
        <translation>Schritt %1: %2</translation>
    </message>
    <message>
        <source>Text encoder</source>
        <translation>Text-Encoder</translation>
    </message>
    <message>
        <source>UNet</source>
        <translation>UNet</translation>
    </message>
    <message>
        <source>%1 · step %2 of %3 · loss %4 · %5 it/s · %6 left</source>
        <translation>%1 · Schritt %2 von %3 · Verlust %4 · %5 it/s · noch %6</translation>
    </message>
    <message>
        <source>Training: step %1 of %2 · %3 left</source>
        <translation>Training: Schritt %1 von %2 · noch %3</translation>
    </message>
    <message numerus="yes">
        <source>Finished: %n step(s). Export the model, or extend the training.</source>
        <translation>
            <numerusform>Fertig: %n Schritt. Exportieren Sie das Modell oder verlängern Sie das Training.</numerusform>
            <numerusform>Fertig: %n Schritte. Exportieren Sie das Modell oder verlängern Sie das Training.</numerusform>
        </translation>
    </message>
    <message>
        <source>Training finished</source>
        <translation>Training beendet</translation>
    </message>
    <message>
        <source>Paused at step %1 of %2: Resume continues exactly from here.</source>
        <translation>Pausiert bei Schritt %1 von %2: Fortsetzen macht genau hier weiter.</translation>
    </message>
    <message>
        <source>Stopped at step %1 of %2; the checkpoint is saved.</source>
        <translation>Gestoppt bei Schritt %1 von %2; der Checkpoint ist gespeichert.</translation>
    </message>
    <message>
        <source>Checkpoint saved at step %1</source>
        <translation>Checkpoint bei Schritt %1 gespeichert</translation>
    </message>
    <message>
        <source>Training failed</source>
        <translation>Training fehlgeschlagen</translation>
    </message>
    <message>
        <source>Choose Where the Diffusers Folder Goes</source>
        <translation>Wählen, wohin der Diffusers-Ordner kommt</translation>
    </message>
    <message>
        <source>Export the Trained Model</source>
        <translation>Das trainierte Modell exportieren</translation>
    </message>
    <message>
        <source>Model (*.%1)</source>
        <translation>Modell (*.%1)</translation>
    </message>
    <message>
        <source>Exporting to %1…</source>
        <translation>Export nach %1 …</translation>
    </message>
    <message>
        <source>Exported %1 (%2 MB, step %3).</source>
        <translation>%1 exportiert (%2 MB, Schritt %3).</translation>
    </message>
    <message>
        <source>LoRA exported</source>
        <translation>LoRA exportiert</translation>
    </message>
    <message>
        <source>Model exported</source>
        <translation>Modell exportiert</translation>
    </message>
    <message>
        <source>“%1” is written and verified; the Models page lists it.</source>
        <translation>„%1“ ist geschrieben und geprüft; die Seite „Modelle“ zeigt es an.</translation>
    </message>
    <message>
        <source>Exported %1</source>
        <translation>%1 exportiert</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>Export fehlgeschlagen</translation>
    </message>
    <message>
        <source>Compare Checkpoints…</source>
        <translation>Checkpoints vergleichen…</translation>
    </message>
    <message>
        <source>An X/Y/Z plot on the Generate page: the same prompt and seed with each kept checkpoint</source>
        <translation>Ein X/Y/Z-Plot auf der Seite „Generieren“: derselbe Prompt und Seed mit jedem aufbewahrten Checkpoint</translation>
    </message>
    <message numerus="yes">
        <source>%n checkpoint(s) kept</source>
        <translation>
            <numerusform>%n Checkpoint aufbewahrt</numerusform>
            <numerusform>%n Checkpoints aufbewahrt</numerusform>
        </translation>
    </message>
    <message>
        <source>No checkpoint kept yet</source>
        <translation>Noch kein Checkpoint aufbewahrt</translation>
    </message>
    <message>
        <source>This session keeps no checkpoint files yet</source>
        <translation>Diese Sitzung bewahrt noch keine Checkpoint-Dateien auf</translation>
    </message>
    <message>
        <source>E&amp;xport Session…</source>
        <translation>Sitzung e&amp;xportieren…</translation>
    </message>
    <message>
        <source>Write the training session to a .zip to carry it to another machine</source>
        <translation>Die Trainingssitzung als .zip schreiben, um sie auf einen anderen Rechner mitzunehmen</translation>
    </message>
    <message>
        <source>I&amp;mport Session…</source>
        <translation>Sitzung i&amp;mportieren…</translation>
    </message>
    <message>
        <source>Open a training session from a .zip made by Export Session</source>
        <translation>Eine Trainingssitzung aus einer mit „Sitzung exportieren“ erstellten .zip öffnen</translation>
    </message>
    <message>
        <source>Settings, images, metrics and samples: train it elsewhere from the start</source>
        <translation>Einstellungen, Bilder, Messwerte und Beispiele: anderswo von vorn trainieren</translation>
    </message>
    <message>
        <source>Everything with the checkpoints: it resumes exactly where it stopped</source>
        <translation>Alles samt Checkpoints: setzt genau dort fort, wo es anhielt</translation>
    </message>
    <message>
        <source>With the kept checkpoint files only: the result, small (it does not resume)</source>
        <translation>Nur mit den aufbewahrten Checkpoint-Dateien: das Ergebnis, klein (ohne Fortsetzen)</translation>
    </message>
    <message>
        <source>Export Session</source>
        <translation>Sitzung exportieren</translation>
    </message>
    <message>
        <source>What goes into the archive?</source>
        <translation>Was soll ins Archiv?</translation>
    </message>
    <message>
        <source>Export the Training Session</source>
        <translation>Trainingssitzung exportieren</translation>
    </message>
    <message>
        <source>Session archive (*.zip)</source>
        <translation>Sitzungsarchiv (*.zip)</translation>
    </message>
    <message>
        <source>Import a Training Session</source>
        <translation>Trainingssitzung importieren</translation>
    </message>
    <message>
        <source>Choose Where the Session Goes</source>
        <translation>Ort für die Sitzung wählen</translation>
    </message>
    <message>
        <source>Exporting the session to %1…</source>
        <translation>Sitzung wird nach %1 exportiert…</translation>
    </message>
    <message>
        <source>Importing %1…</source>
        <translation>%1 wird importiert…</translation>
    </message>
    <message>
        <source>Session Archive</source>
        <translation>Sitzungsarchiv</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Import failed</source>
        <translation>Import fehlgeschlagen</translation>
    </message>
    <message>
        <source>Session export failed</source>
        <translation>Sitzungsexport fehlgeschlagen</translation>
    </message>
    <message>
        <source>Import cancelled; nothing was written</source>
        <translation>Import abgebrochen; nichts wurde geschrieben</translation>
    </message>
    <message>
        <source>Export cancelled; nothing was written</source>
        <translation>Export abgebrochen; nichts wurde geschrieben</translation>
    </message>
    <message>
        <source>It resumes at step %1.</source>
        <translation>Sie setzt bei Schritt %1 fort.</translation>
    </message>
    <message>
        <source>It trains from the start.</source>
        <translation>Sie trainiert von vorn.</translation>
    </message>
    <message>
        <source>Session imported</source>
        <translation>Sitzung importiert</translation>
    </message>
    <message>
        <source>“%1” on %2. %3</source>
        <translation>„%1“ auf %2. %3</translation>
    </message>
    <message>
        <source>Imported %1</source>
        <translation>%1 importiert</translation>
    </message>
    <message>
        <source>Exported the session to %1 (%2 MB).</source>
        <translation>Sitzung nach %1 exportiert (%2 MB).</translation>
    </message>
    <message>
        <source>Session exported</source>
        <translation>Sitzung exportiert</translation>
    </message>
    <message>
        <source>“%1” holds the session; import it on another machine with File &gt; Import Session or kiln-cli session import.</source>
        <translation>„%1“ enthält die Sitzung; auf einem anderen Rechner mit Datei &gt; Sitzung importieren oder kiln-cli session import importieren.</translation>
    </message>
</context>
<context>
    <name>kiln::app::XyzPlotDialog</name>
    <message>
        <source>X/Y/Z Plot</source>
        <translation>X/Y/Z-Plot</translation>
    </message>
    <message>
        <source>Every combination of the values is made with the other settings as they are, then put in one labelled grid (each image also goes to the gallery).</source>
        <translation>Jede Kombination der Werte wird mit den übrigen Einstellungen, wie sie sind, erzeugt und in ein beschriftetes Raster gesetzt (jedes Bild kommt auch in die Galerie).</translation>
    </message>
    <message>
        <source>X (columns)</source>
        <translation>X (Spalten)</translation>
    </message>
    <message>
        <source>Y (rows)</source>
        <translation>Y (Zeilen)</translation>
    </message>
    <message>
        <source>Z (grids)</source>
        <translation>Z (Raster)</translation>
    </message>
    <message>
        <source>None</source>
        <translation>Keine</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>Seed</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>Schritte</translation>
    </message>
    <message>
        <source>CFG scale</source>
        <translation>CFG-Skala</translation>
    </message>
    <message>
        <source>Sampler</source>
        <translation>Sampler</translation>
    </message>
    <message>
        <source>Checkpoint</source>
        <translation>Checkpoint</translation>
    </message>
    <message>
        <source>LoRA weight (the first LoRA)</source>
        <translation>LoRA-Gewicht (die erste LoRA)</translation>
    </message>
    <message>
        <source>Prompt S/R (find, then replacements)</source>
        <translation>Prompt S/R (Suchtext, dann Ersetzungen)</translation>
    </message>
    <message>
        <source>values separated by commas, e.g. 10, 20, 30 or 10-30 (+10)</source>
        <translation>Werte durch Kommas getrennt, z. B. 10, 20, 30 oder 10-30 (+10)</translation>
    </message>
    <message>
        <source>Make the Plot</source>
        <translation>Plot erzeugen</translation>
    </message>
    <message>
        <source>Choose at least one axis.</source>
        <translation>Wählen Sie mindestens eine Achse.</translation>
    </message>
    <message numerus="yes">
        <source>%n image(s), then the grid.</source>
        <translation>
            <numerusform>%n Bild, dann das Raster.</numerusform>
            <numerusform>%n Bilder, dann das Raster.</numerusform>
        </translation>
    </message>
    <message>
        <source>LoRA file (replaces the first LoRA)</source>
        <translation>LoRA-Datei (ersetzt die erste LoRA)</translation>
    </message>
</context>
<context>
    <name>kiln::downloads::FileDownload</name>
    <message>
        <source>Civitai refused the model version %1 (HTTP %2): this model needs you signed in; set CIVITAI_TOKEN to an API key from your Civitai account settings</source>
        <translation>Civitai verweigert die Modellversion %1 (HTTP %2): Für dieses Modell müssen Sie angemeldet sein; setzen Sie CIVITAI_TOKEN auf einen API-Schlüssel aus Ihren Civitai-Kontoeinstellungen</translation>
    </message>
    <message>
        <source>Civitai has no model version %1 (HTTP 404)</source>
        <translation>Civitai hat keine Modellversion %1 (HTTP 404)</translation>
    </message>
    <message>
        <source>Civitai did not answer for model version %1: %2</source>
        <translation>Civitai hat für die Modellversion %1 nicht geantwortet: %2</translation>
    </message>
    <message>
        <source>Civitai: %1; trying again in %2 s</source>
        <translation>Civitai: %1; neuer Versuch in %2 s</translation>
    </message>
    <message>
        <source>Civitai answered HTTP %1 for model version %2</source>
        <translation>Civitai antwortete mit HTTP %1 für die Modellversion %2</translation>
    </message>
    <message>
        <source>Civitai&apos;s answer for model version %1 lists no model file</source>
        <translation>Civitais Antwort für die Modellversion %1 nennt keine Modelldatei</translation>
    </message>
    <message>
        <source>Civitai&apos;s file name for model version %1 is not usable</source>
        <translation>Civitais Dateiname für die Modellversion %1 ist nicht verwendbar</translation>
    </message>
    <message>
        <source>no usable file name for %1; give one</source>
        <translation>kein verwendbarer Dateiname für %1; geben Sie einen an</translation>
    </message>
    <message>
        <source>cannot create the folder %1</source>
        <translation>der Ordner %1 kann nicht angelegt werden</translation>
    </message>
    <message>
        <source>%1 is already there; remove or rename it first</source>
        <translation>%1 gibt es schon; entfernen Sie die Datei erst oder benennen Sie sie um</translation>
    </message>
    <message>
        <source>%1 holds part of another file: starting over</source>
        <translation>%1 enthält einen Teil einer anderen Datei: beginne neu</translation>
    </message>
    <message>
        <source>the part is larger than the file: starting over</source>
        <translation>der Teil ist größer als die Datei: beginne neu</translation>
    </message>
    <message>
        <source>cannot read %1: %2</source>
        <translation>%1 kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>checking the %1 already downloaded</source>
        <translation>prüfe die bereits geladenen %1</translation>
    </message>
    <message>
        <source>cannot write %1: %2</source>
        <translation>%1 kann nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>%1 publishes sha256 %2 for %3, but %4 expects %5: the file changed upstream; not downloaded</source>
        <translation>%1 veröffentlicht SHA-256 %2 für %3, %4 erwartet aber %5: Die Datei hat sich an der Quelle geändert; nicht heruntergeladen</translation>
    </message>
    <message>
        <source>%1 announces %2 bytes for %3, expected %4: not downloaded</source>
        <translation>%1 kündigt %2 Byte für %3 an, erwartet waren %4: nicht heruntergeladen</translation>
    </message>
    <message>
        <source>not enough free space in %1: %2 still to download, %3 free</source>
        <translation>nicht genug freier Platz in %1: noch %2 herunterzuladen, %3 frei</translation>
    </message>
    <message>
        <source>%1 redirects nowhere (HTTP %2 without a Location)</source>
        <translation>%1 leitet nirgendwohin um (HTTP %2 ohne Location)</translation>
    </message>
    <message>
        <source>%1 redirects to an unsupported address</source>
        <translation>%1 leitet auf eine nicht unterstützte Adresse um</translation>
    </message>
    <message>
        <source>%1 redirects in a loop</source>
        <translation>%1 leitet im Kreis um</translation>
    </message>
    <message>
        <source>%1: more than %2 redirects</source>
        <translation>%1: mehr als %2 Umleitungen</translation>
    </message>
    <message>
        <source>%1 is gated: accept its licence on %2 while signed in, then set HF_TOKEN to an access token of that account</source>
        <translation>%1 ist zugangsbeschränkt: Nehmen Sie angemeldet die Lizenz auf %2 an und setzen Sie dann HF_TOKEN auf ein Zugriffstoken dieses Kontos</translation>
    </message>
    <message>
        <source>%1 is gated and your HF_TOKEN is not accepted for it: accept the licence on %2 with the same account, or make a new token</source>
        <translation>%1 ist zugangsbeschränkt und Ihr HF_TOKEN wird dafür nicht angenommen: Nehmen Sie die Lizenz auf %2 mit demselben Konto an oder erstellen Sie ein neues Token</translation>
    </message>
    <message>
        <source>Civitai needs you signed in for this file: set CIVITAI_TOKEN to an API key from your account settings</source>
        <translation>Für diese Datei müssen Sie bei Civitai angemeldet sein: Setzen Sie CIVITAI_TOKEN auf einen API-Schlüssel aus Ihren Kontoeinstellungen</translation>
    </message>
    <message>
        <source>the server refused access</source>
        <translation>der Server verweigert den Zugriff</translation>
    </message>
    <message>
        <source>HTTP %1: %2</source>
        <translation>HTTP %1: %2</translation>
    </message>
    <message>
        <source>%1 has no file %2 at revision %3</source>
        <translation>%1 hat keine Datei %2 in der Revision %3</translation>
    </message>
    <message>
        <source>nothing at %1</source>
        <translation>nichts unter %1</translation>
    </message>
    <message>
        <source>the server cannot continue the part (HTTP 416)</source>
        <translation>der Server kann den Teil nicht fortsetzen (HTTP 416)</translation>
    </message>
    <message>
        <source>HTTP %1 %2</source>
        <translation>HTTP %1 %2</translation>
    </message>
    <message>
        <source>HTTP %1 from %2</source>
        <translation>HTTP %1 von %2</translation>
    </message>
    <message>
        <source>%1 sent a web page instead of the file (often a sign-in, licence or error page): open %2 in a browser</source>
        <translation>%1 hat statt der Datei eine Webseite geschickt (oft eine Anmelde-, Lizenz- oder Fehlerseite): Öffnen Sie %2 im Browser</translation>
    </message>
    <message>
        <source>the server sent the whole file instead of the rest: starting over</source>
        <translation>der Server hat die ganze Datei statt des Rests geschickt: beginne neu</translation>
    </message>
    <message>
        <source>the server sent bytes &apos;%1&apos; instead of the rest from byte %2</source>
        <translation>der Server hat die Bytes &apos;%1&apos; statt des Rests ab Byte %2 geschickt</translation>
    </message>
    <message>
        <source>the server sent more than the %1 bytes announced for %2; the download was removed</source>
        <translation>der Server hat mehr als die für %2 angekündigten %1 Byte geschickt; der Download wurde entfernt</translation>
    </message>
    <message>
        <source>cannot write %1: %2 (is the disk full?); what was downloaded is kept for a resume</source>
        <translation>%1 kann nicht geschrieben werden: %2 (ist der Datenträger voll?); das bisher Geladene bleibt zum Fortsetzen erhalten</translation>
    </message>
    <message>
        <source>the connection closed after %1 of %2</source>
        <translation>die Verbindung wurde nach %1 von %2 geschlossen</translation>
    </message>
    <message>
        <source>no data for %1 s</source>
        <translation>seit %1 s keine Daten</translation>
    </message>
    <message>
        <source>gave up after %1 tries: %2; what was downloaded is kept for a resume</source>
        <translation>nach %1 Versuchen aufgegeben: %2; das bisher Geladene bleibt zum Fortsetzen erhalten</translation>
    </message>
    <message>
        <source>%1; the server asks to wait %2 min; try again later</source>
        <translation>%1; der Server bittet, %2 min zu warten; versuchen Sie es später erneut</translation>
    </message>
    <message>
        <source>%1; trying again in %2 s</source>
        <translation>%1; neuer Versuch in %2 s</translation>
    </message>
    <message>
        <source>, starting over</source>
        <translation>, beginne neu</translation>
    </message>
    <message>
        <source>%1 has %2 bytes, expected %3; the download was removed</source>
        <translation>%1 hat %2 Byte, erwartet waren %3; der Download wurde entfernt</translation>
    </message>
    <message>
        <source>%1 is damaged: its sha256 is %2, %3 publishes %4; the download was removed</source>
        <translation>%1 ist beschädigt: Sein SHA-256 ist %2, %3 veröffentlicht %4; der Download wurde entfernt</translation>
    </message>
    <message>
        <source>%1 appeared meanwhile; the download stays as %2</source>
        <translation>%1 ist inzwischen aufgetaucht; der Download bleibt als %2</translation>
    </message>
    <message>
        <source>cannot rename %1 to %2</source>
        <translation>%1 kann nicht in %2 umbenannt werden</translation>
    </message>
    <message>
        <source>%1 is already there: checking it</source>
        <translation>%1 ist schon vorhanden: wird geprüft</translation>
    </message>
    <message>
        <source>a different %1 is already there (sha256 %2, expected %3); remove or rename it first</source>
        <translation>ein anderes %1 ist schon vorhanden (sha256 %2, erwartet %3); entfernen oder benennen Sie es zuerst um</translation>
    </message>
</context>
<context>
    <name>kiln::widgets::FolderListEditor</name>
    <message>
        <source>Add…</source>
        <translation>Hinzufügen …</translation>
    </message>
    <message>
        <source>Add a folder to the list</source>
        <translation>Einen Ordner zur Liste hinzufügen</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>Entfernen</translation>
    </message>
    <message>
        <source>Remove the selected folders from the list (nothing is deleted from disk)</source>
        <translation>Die gewählten Ordner aus der Liste entfernen (auf der Festplatte wird nichts gelöscht)</translation>
    </message>
    <message>
        <source>Choose a folder</source>
        <translation>Ordner wählen</translation>
    </message>
    <message>
        <source>%1
This folder is missing or cannot be read.</source>
        <translation>%1
Dieser Ordner fehlt oder kann nicht gelesen werden.</translation>
    </message>
</context>
<context>
    <name>kiln::widgets::ImageCanvas</name>
    <message>
        <source>Clear Mask</source>
        <translation>Maske leeren</translation>
    </message>
    <message>
        <source>Erase</source>
        <translation>Radieren</translation>
    </message>
    <message>
        <source>Paint Mask</source>
        <translation>Maske malen</translation>
    </message>
    <message>
        <source>Load Mask</source>
        <translation>Maske laden</translation>
    </message>
    <message>
        <source>Clear Scribble</source>
        <translation>Skizze leeren</translation>
    </message>
    <message>
        <source>Load Scribble</source>
        <translation>Skizze laden</translation>
    </message>
    <message>
        <source>Draw Scribble</source>
        <translation>Skizze zeichnen</translation>
    </message>
</context>
<context>
    <name>kiln::widgets::MessageBanner</name>
    <message>
        <source>Show details</source>
        <translation>Details zeigen</translation>
    </message>
    <message>
        <source>Hide details</source>
        <translation>Details ausblenden</translation>
    </message>
</context>
<context>
    <name>kiln::widgets::PoseEditor</name>
    <message>
        <source>Pose editor</source>
        <translation>Pose-Editor</translation>
    </message>
    <message>
        <source>&lt;p&gt;Drag a joint to move it; drag a limb, or anything with Shift held, to move the whole person. Right-click for more.&lt;/p&gt;&lt;p&gt;Keys: Page Up/Down select a person, [ and ] a joint, arrows move the joint (Ctrl: the person, Shift: faster), H hides or shows it, Insert adds a person, Ctrl+D duplicates, M mirrors, R resets the pose, Delete removes.&lt;/p&gt;</source>
        <translation>&lt;p&gt;Ziehen Sie ein Gelenk, um es zu bewegen; ziehen Sie ein Glied oder irgendetwas mit gedrückter Umschalttaste, um die ganze Person zu bewegen. Rechtsklick für mehr.&lt;/p&gt;&lt;p&gt;Tasten: Bild auf/ab wählen eine Person, [ und ] ein Gelenk, Pfeile bewegen das Gelenk (Strg: die Person, Umschalt: schneller), H blendet es aus oder ein, Einfg fügt eine Person hinzu, Strg+D dupliziert, M spiegelt, R setzt die Pose zurück, Entf entfernt.&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Nose</source>
        <translation>Nase</translation>
    </message>
    <message>
        <source>Neck</source>
        <translation>Hals</translation>
    </message>
    <message>
        <source>Right Shoulder</source>
        <translation>Rechte Schulter</translation>
    </message>
    <message>
        <source>Right Elbow</source>
        <translation>Rechter Ellbogen</translation>
    </message>
    <message>
        <source>Right Wrist</source>
        <translation>Rechtes Handgelenk</translation>
    </message>
    <message>
        <source>Left Shoulder</source>
        <translation>Linke Schulter</translation>
    </message>
    <message>
        <source>Left Elbow</source>
        <translation>Linker Ellbogen</translation>
    </message>
    <message>
        <source>Left Wrist</source>
        <translation>Linkes Handgelenk</translation>
    </message>
    <message>
        <source>Right Hip</source>
        <translation>Rechte Hüfte</translation>
    </message>
    <message>
        <source>Right Knee</source>
        <translation>Rechtes Knie</translation>
    </message>
    <message>
        <source>Right Ankle</source>
        <translation>Rechter Knöchel</translation>
    </message>
    <message>
        <source>Left Hip</source>
        <translation>Linke Hüfte</translation>
    </message>
    <message>
        <source>Left Knee</source>
        <translation>Linkes Knie</translation>
    </message>
    <message>
        <source>Left Ankle</source>
        <translation>Linker Knöchel</translation>
    </message>
    <message>
        <source>Right Eye</source>
        <translation>Rechtes Auge</translation>
    </message>
    <message>
        <source>Left Eye</source>
        <translation>Linkes Auge</translation>
    </message>
    <message>
        <source>Right Ear</source>
        <translation>Rechtes Ohr</translation>
    </message>
    <message>
        <source>Left Ear</source>
        <translation>Linkes Ohr</translation>
    </message>
    <message>
        <source>Scale Poses</source>
        <translation>Posen skalieren</translation>
    </message>
    <message>
        <source>Set Poses</source>
        <translation>Posen setzen</translation>
    </message>
    <message>
        <source>Move %1</source>
        <translation>%1 bewegen</translation>
    </message>
    <message>
        <source>Show %1</source>
        <translation>%1 einblenden</translation>
    </message>
    <message>
        <source>Hide %1</source>
        <translation>%1 ausblenden</translation>
    </message>
    <message>
        <source>Move Person</source>
        <translation>Person bewegen</translation>
    </message>
    <message>
        <source>Add Person</source>
        <translation>Person hinzufügen</translation>
    </message>
    <message>
        <source>Duplicate Person</source>
        <translation>Person duplizieren</translation>
    </message>
    <message>
        <source>Remove Person</source>
        <translation>Person entfernen</translation>
    </message>
    <message>
        <source>Mirror Person</source>
        <translation>Person spiegeln</translation>
    </message>
    <message>
        <source>Reset Pose</source>
        <translation>Pose zurücksetzen</translation>
    </message>
    <message>
        <source>Person %1</source>
        <translation>Person %1</translation>
    </message>
    <message>
        <source>%1 of person %2</source>
        <translation>%1 von Person %2</translation>
    </message>
    <message>
        <source>(hidden)</source>
        <translation>(ausgeblendet)</translation>
    </message>
    <message>
        <source>Show Hidden Joint</source>
        <translation>Ausgeblendetes Gelenk einblenden</translation>
    </message>
    <message>
        <source>Fit to View</source>
        <translation>In Ansicht einpassen</translation>
    </message>
</context>
</TS>
