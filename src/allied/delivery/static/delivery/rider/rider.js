// The rider app on the phone. Every action (start, deliver, fail, pick up) goes through a queue
// kept in IndexedDB with the action id the server rendered into its form: it is sent at once when
// there is a connection, and otherwise waits, shown as "waiting to send", until the connection
// returns (the online event, and retries with backoff). The server applies each action id once,
// so sending one again after a lost answer does no harm. The day's pages are kept in the cache the
// service worker reads from, so the run sheet and its stops open without a connection.
(function () {
  "use strict";
  const body = document.body;
  const ACTIONS_URL = body.dataset.actionsUrl;
  const RUN_SHEET_URL = body.dataset.runSheetUrl;
  const PAGES_CACHE = "rider-pages-v1";
  const DB_NAME = "allied-rider";
  const STORE = "actions";
  const FLASH_KEY = "allied-rider-flash";
  const KEPT_KEY = "allied-rider-kept";
  const MAX_PHOTO_SIDE = 1280;
  const QUEUED_WORDS = { start: "Start route", deliver: "Delivered", fail: "Could not deliver", pickup: "Picked up" };

  // IndexedDB: one store of actions keyed by their id ------------------------------------------
  let dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const opening = indexedDB.open(DB_NAME, 1);
        opening.onupgradeneeded = () => opening.result.createObjectStore(STORE, { keyPath: "client_action_id" });
        opening.onsuccess = () => resolve(opening.result);
        opening.onerror = () => reject(opening.error);
      });
    }
    return dbPromise;
  }
  function done(request) {
    return new Promise((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  async function store(mode) {
    return (await db()).transaction(STORE, mode).objectStore(STORE);
  }
  async function queued() {
    const items = await done((await store("readonly")).getAll());
    return items.sort((a, b) => a.created - b.created);
  }
  async function save(item) {
    await done((await store("readwrite")).put(item));
  }
  async function forget(id) {
    await done((await store("readwrite")).delete(id));
  }

  // Talking to the server -------------------------------------------------------------------
  function csrfToken() {
    const cookie = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (cookie) return decodeURIComponent(cookie[1]);
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // -> {kind: "sent", result} | {kind: "offline"} (try later) | {kind: "refused", messages}
  async function send(item) {
    if (!navigator.onLine) return { kind: "offline" };
    const payload = Object.assign({}, item.data, {
      action: item.action,
      stop: item.stop,
      client_action_id: item.client_action_id,
    });
    let response;
    try {
      response = await fetch(ACTIONS_URL, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(payload),
      });
    } catch (error) {
      return { kind: "offline" };
    }
    const type = response.headers.get("Content-Type") || "";
    if (response.redirected || !type.includes("json")) {
      if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
        return { kind: "refused", messages: [`Not sent (${response.status}): sign in again, then reopen the stop.`] };
      }
      return { kind: "offline", signedOut: response.redirected };
    }
    const answer = await response.json().catch(() => ({}));
    if (response.ok) {
      await forget(item.client_action_id);
      return { kind: "sent", result: answer };
    }
    if (response.status >= 500 || response.status === 408 || response.status === 429) return { kind: "offline" };
    const messages = (answer.errors || []).map((error) => error.message);
    if (!messages.length) messages.push(answer.detail || `The server refused this (${response.status}).`);
    return { kind: "refused", messages };
  }

  let flushing = false;
  let retryTimer = null;
  let retryDelay = 5000;
  function retryLater() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(flush, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 120000);
  }

  // Sends what waits, oldest first; stops at the first one that cannot go yet, keeping the order.
  async function flush() {
    if (flushing) return;
    flushing = true;
    try {
      for (const item of await queued()) {
        if (item.state === "refused") continue;
        const outcome = await send(item);
        if (outcome.kind === "offline") {
          retryLater();
          break;
        }
        if (outcome.kind === "sent") {
          retryDelay = 5000;
          showDone(outcome.result);
        } else {
          item.state = "refused";
          item.messages = outcome.messages;
          await save(item);
        }
      }
    } finally {
      flushing = false;
      await render();
    }
  }

  // Showing the queue -----------------------------------------------------------------------
  function stopElements(stopId) {
    return stopId ? document.querySelectorAll(`[data-stop="${CSS.escape(stopId)}"]`) : [];
  }

  function showDone(result) {
    document.querySelectorAll(".message[data-queued-note]").forEach((note) => note.remove());
    if (result.message) flash(result.message, "success");
    stopElements(result.stop).forEach((element) => {
      element.classList.remove("is-queued");
      if (!element.classList.contains("is-done") && element.matches("li")) {
        const left = document.querySelector("[data-left]");
        if (left && Number(left.textContent) > 0) left.textContent = String(Number(left.textContent) - 1);
      }
      element.classList.add("is-done");
      const status = element.querySelector("[data-status]");
      if (status && result.status_label) {
        status.textContent = result.status_label;
        status.className = `badge status-${result.status}`;
      }
    });
  }

  function flash(text, tag, queuedNote) {
    const main = document.getElementById("main");
    if (!main) return;
    let box = main.querySelector(".messages");
    if (!box) {
      box = document.createElement("div");
      box.className = "messages";
      box.setAttribute("role", "status");
      main.prepend(box);
    }
    const message = document.createElement("p");
    message.className = `message ${tag}`;
    message.textContent = text;
    if (queuedNote) message.dataset.queuedNote = "1";
    box.append(message);
  }

  async function render() {
    const panel = document.querySelector("[data-queue]");
    if (!panel) return;
    let items = [];
    try {
      items = await queued();
    } catch (error) {
      return;
    }
    const list = panel.querySelector("[data-queue-list]");
    list.replaceChildren();
    document.querySelectorAll(".is-queued").forEach((element) => element.classList.remove("is-queued"));
    for (const item of items) {
      const row = document.createElement("li");
      const text = document.createElement("span");
      text.textContent = `${item.label}: ${QUEUED_WORDS[item.action] || item.action}`;
      row.append(text);
      if (item.state === "refused") {
        row.className = "error";
        const why = document.createElement("span");
        why.textContent = ` — not accepted: ${(item.messages || []).join(" ")}`;
        text.append(why);
        const drop = document.createElement("button");
        drop.type = "button";
        drop.className = "button small";
        drop.textContent = "Dismiss";
        drop.addEventListener("click", async () => {
          await forget(item.client_action_id);
          await render();
        });
        row.append(drop);
      }
      list.append(row);
      stopElements(item.stop).forEach((element) => {
        if (item.state === "refused") return;
        element.classList.add("is-queued");
        const status = element.querySelector("[data-status]");
        if (status) {
          status.textContent = `${QUEUED_WORDS[item.action] || item.action} · waiting to send`;
          status.className = "badge queued";
        }
      });
    }
    panel.hidden = items.length === 0;
  }

  function showNetwork() {
    const badge = document.querySelector("[data-net-status]");
    if (!badge) return;
    badge.textContent = navigator.onLine ? "Online" : "Offline";
    badge.classList.toggle("offline", !navigator.onLine);
  }

  // Forms -----------------------------------------------------------------------------------
  function readAsDataUrl(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(file);
    });
  }

  // A phone's photo is several megabytes: kept and sent as a JPEG at most 1280 pixels a side.
  async function shrink(file) {
    const source = await readAsDataUrl(file);
    const image = new Image();
    image.src = source;
    await image.decode();
    const scale = Math.min(1, MAX_PHOTO_SIDE / Math.max(image.naturalWidth, image.naturalHeight));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(image.naturalWidth * scale);
    canvas.height = Math.round(image.naturalHeight * scale);
    canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
    return canvas.toDataURL("image/jpeg", 0.8);
  }

  function showErrors(messages) {
    const box = document.querySelector("[data-form-errors]");
    if (!box) {
      flash(messages.join(" "), "error");
      return;
    }
    box.replaceChildren(
      ...messages.map((text) => {
        const line = document.createElement("p");
        line.textContent = text;
        return line;
      }),
    );
    box.hidden = false;
    box.scrollIntoView({ block: "center" });
  }

  function stopLabel() {
    const heading = document.querySelector("h1");
    return heading ? heading.textContent.trim() : "Route";
  }

  async function submitAction(form, submitter) {
    const action = form.dataset.riderAction;
    const data = {};
    for (const [name, value] of new FormData(form)) {
      if (typeof value === "string" && name !== "csrfmiddlewaretoken") data[name] = value;
    }
    if (submitter && submitter.name) data[submitter.name] = submitter.value;
    if (form.dataset.proofLevel === "signature" && !data.signature_svg) {
      showErrors(["Ask the recipient to sign on the screen."]);
      return;
    }
    const photo = form.querySelector("input[type=file]");
    if (photo && photo.files.length) data.photo = await shrink(photo.files[0]);
    const holder = form.closest("[data-stop]") || document.querySelector(".stop-head[data-stop]");
    const item = {
      client_action_id: data.client_action_id || crypto.randomUUID(),
      action,
      stop: holder ? holder.dataset.stop : "",
      label: stopLabel(),
      data,
      created: Date.now(),
      state: "waiting",
    };
    delete item.data.client_action_id;
    delete item.data.action;
    if (action === "code") {
      // A code goes to the recipient now or not at all: it is not queued.
      const outcome = await send(item);
      if (outcome.kind === "sent") flash(outcome.result.message, "success");
      else showErrors(outcome.messages || ["Sending a code needs a connection: try again in a moment."]);
      return;
    }
    await save(item);
    const outcome = await send(item);
    if (outcome.kind === "refused") {
      await forget(item.client_action_id);
      showErrors(outcome.messages);
      return;
    }
    sessionStorage.setItem(
      FLASH_KEY,
      JSON.stringify(
        outcome.kind === "sent"
          ? { text: outcome.result.message, tag: "success" }
          : { text: `Saved on this phone: "${QUEUED_WORDS[action] || action}" is sent when the connection returns.`, tag: "warning", queued: true },
      ),
    );
    window.location.assign(RUN_SHEET_URL);
  }

  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-rider-action]");
    if (!form || !window.indexedDB) return;
    event.preventDefault();
    const buttons = form.querySelectorAll("button");
    buttons.forEach((button) => (button.disabled = true));
    submitAction(form, event.submitter)
      .catch((error) => showErrors([`Not saved: ${error.message || error}`]))
      .finally(() => buttons.forEach((button) => (button.disabled = false)));
  });

  // Signing on the screen: strokes become SVG path data in the canvas's own coordinates.
  function signaturePad(root) {
    const canvas = root.querySelector("[data-signature-pad]");
    const input = root.querySelector("[data-signature-input]");
    const context = canvas.getContext("2d");
    let strokes = [];
    let current = null;
    function style() {
      context.lineWidth = 4;
      context.lineCap = "round";
      context.lineJoin = "round";
      context.strokeStyle = "#1b2330";
    }
    function point(event) {
      const box = canvas.getBoundingClientRect();
      return [
        Math.round(((event.clientX - box.left) * canvas.width) / box.width),
        Math.round(((event.clientY - box.top) * canvas.height) / box.height),
      ];
    }
    function path() {
      return strokes
        .filter((stroke) => stroke.length > 1)
        .map((stroke) => "M" + stroke.map((p) => p.join(" ")).join(" L"))
        .join(" ");
    }
    style();
    canvas.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      current = [point(event)];
      strokes.push(current);
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!current) return;
      const next = point(event);
      const last = current[current.length - 1];
      context.beginPath();
      context.moveTo(last[0], last[1]);
      context.lineTo(next[0], next[1]);
      context.stroke();
      current.push(next);
    });
    const end = () => {
      current = null;
      input.value = path();
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    root.querySelector("[data-signature-clear]").addEventListener("click", () => {
      strokes = [];
      context.clearRect(0, 0, canvas.width, canvas.height);
      input.value = "";
    });
  }

  // Offline ---------------------------------------------------------------------------------
  // Each stop page is kept as it was at its last status: fetched again only when its status on
  // the run sheet changed (the route started, the stop was done), not on every visit.
  async function keepForOffline() {
    if (!("caches" in window)) return;
    const cache = await caches.open(PAGES_CACHE);
    const kept = JSON.parse(localStorage.getItem(KEPT_KEY) || "{}");
    const pages = [[RUN_SHEET_URL, ""]];
    document.querySelectorAll("[data-stop-url]").forEach((link) => {
      pages.push([link.getAttribute("href"), link.dataset.stopStatus || ""]);
    });
    for (const [url, status] of pages) {
      const fresh = url !== RUN_SHEET_URL && kept[url] === status;
      if (fresh && (await cache.match(url, { ignoreVary: true }))) continue;
      if (url === RUN_SHEET_URL && (await cache.match(url, { ignoreVary: true }))) continue;
      try {
        const response = await fetch(url, { credentials: "same-origin" });
        if (response.ok && !response.redirected) await cache.put(url, response);
        kept[url] = status;
      } catch (error) {
        break;
      }
    }
    localStorage.setItem(KEPT_KEY, JSON.stringify(kept));
  }

  async function controlled() {
    if (!("serviceWorker" in navigator)) return;
    await navigator.serviceWorker.ready;
    if (navigator.serviceWorker.controller) return;
    await new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
  }

  document.addEventListener("DOMContentLoaded", () => {
    const saved = sessionStorage.getItem(FLASH_KEY);
    if (saved) {
      sessionStorage.removeItem(FLASH_KEY);
      const message = JSON.parse(saved);
      flash(message.text, message.tag, message.queued);
    }
    document.querySelectorAll("[data-signature]").forEach(signaturePad);
    showNetwork();
    window.addEventListener("online", () => {
      showNetwork();
      retryDelay = 5000;
      flush();
    });
    window.addEventListener("offline", showNetwork);
    const signOut = document.querySelector("form[data-sign-out]");
    if (signOut) {
      signOut.addEventListener("submit", async (event) => {
        event.preventDefault();
        const waiting = window.indexedDB ? (await queued()).length : 0;
        if (waiting && !window.confirm(`${waiting} action(s) are not sent yet and will be lost. Sign out anyway?`)) return;
        if (waiting) await Promise.all((await queued()).map((item) => forget(item.client_action_id)));
        if ("caches" in window) await caches.delete(PAGES_CACHE);
        localStorage.removeItem(KEPT_KEY);
        signOut.submit();
      });
    }
    if (!window.indexedDB) return;
    render().then(flush);
    if ("serviceWorker" in navigator && body.dataset.swUrl) {
      navigator.serviceWorker.register(body.dataset.swUrl, { scope: body.dataset.scope }).catch(() => {});
    }
    if (document.querySelector("[data-run-sheet]") && navigator.onLine) {
      Promise.all([keepForOffline(), controlled()]).then(() => {
        document.documentElement.dataset.offlineReady = "1";
      });
    }
  });
})();
