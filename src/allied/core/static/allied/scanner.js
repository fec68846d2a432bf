// Barcode fields: a USB or Bluetooth scanner types the code and Enter, so a focused text field is
// all it needs. On phones with the Barcode Detection API, a "Scan with camera" button reads the
// code from the camera and submits the form.
(function () {
  "use strict";
  const FORMATS = ["code_128", "ean_13", "ean_8", "upc_a", "upc_e", "qr_code", "code_39"];

  async function scanWithCamera(input) {
    const dialog = document.createElement("dialog");
    dialog.className = "camera-dialog";
    dialog.setAttribute("aria-label", "Camera scanner");
    const video = document.createElement("video");
    video.setAttribute("playsinline", "");
    video.muted = true;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "button";
    close.textContent = "Cancel";
    dialog.append(video, close);
    document.body.append(dialog);
    let stream;
    let running = true;
    const stop = () => {
      running = false;
      if (stream) stream.getTracks().forEach((track) => track.stop());
      dialog.close();
      dialog.remove();
      input.focus();
    };
    close.addEventListener("click", stop);
    dialog.showModal();
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch (error) {
      stop();
      return;
    }
    video.srcObject = stream;
    await video.play();
    const detector = new window.BarcodeDetector({ formats: FORMATS });
    while (running) {
      const codes = await detector.detect(video).catch(() => []);
      if (codes.length) {
        input.value = codes[0].rawValue;
        stop();
        if (input.form) input.form.requestSubmit();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  function enhance() {
    const canUseCamera = "BarcodeDetector" in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
    document.querySelectorAll("input[data-scanner]").forEach((input) => {
      if (input.dataset.scannerReady) return;
      input.dataset.scannerReady = "1";
      if (!canUseCamera) return;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button small camera-button";
      button.textContent = "Scan with camera";
      button.addEventListener("click", () => scanWithCamera(input));
      input.insertAdjacentElement("afterend", button);
    });
  }

  document.addEventListener("DOMContentLoaded", enhance);
  document.addEventListener("htmx:afterSwap", enhance);
})();
