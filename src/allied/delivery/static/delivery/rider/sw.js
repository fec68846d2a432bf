// The rider app's service worker, imported by /ops/rider/sw.js (which sets RIDER_CONFIG: the
// static files to keep, the app's scope and the page to fall back to). Pages are network first
// and kept for offline use; static files are served from the cache and refreshed behind it.
// Posts are never touched: actions taken offline wait in the page's queue, not here.
"use strict";
const CONFIG = self.RIDER_CONFIG;
const ASSETS = "rider-assets-v1";
const PAGES = "rider-pages-v1";
const NETWORK_PATIENCE_MS = 6000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(ASSETS)
      .then((cache) => cache.addAll(CONFIG.assets))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .open(ASSETS)
      .then(async (cache) => {
        const wanted = new Set(CONFIG.assets.map((path) => new URL(path, self.location.origin).href));
        for (const request of await cache.keys()) {
          if (!wanted.has(request.url)) await cache.delete(request);
        }
      })
      .then(() => self.clients.claim()),
  );
});

async function staleWhileRevalidate(event) {
  const cache = await caches.open(ASSETS);
  const hit = await cache.match(event.request, { ignoreVary: true });
  const refresh = fetch(event.request)
    .then((response) => {
      if (response.ok) cache.put(event.request, response.clone());
      return response;
    })
    .catch(() => hit);
  if (hit) {
    event.waitUntil(refresh);
    return hit;
  }
  return refresh;
}

function offlinePage() {
  const html =
    '<!DOCTYPE html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width">' +
    "<title>Offline · Allied Rider</title><main><h1>No connection</h1>" +
    '<p>This page was not saved on the phone. <a href="' + CONFIG.offline + '">Back to the run sheet</a>.</p></main></html>';
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

async function networkFirst(event) {
  const cache = await caches.open(PAGES);
  const network = fetch(event.request).then((response) => {
    if (response.ok && !response.redirected) cache.put(event.request, response.clone());
    return response;
  });
  const patience = new Promise((resolve) => setTimeout(resolve, NETWORK_PATIENCE_MS, null));
  try {
    const first = await Promise.race([network, patience]);
    if (first) return first;
    const hit = await cache.match(event.request, { ignoreVary: true });
    return hit || (await network);
  } catch (error) {
    const hit = await cache.match(event.request, { ignoreVary: true });
    return hit || (await cache.match(CONFIG.offline, { ignoreVary: true })) || offlinePage();
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (CONFIG.assets.includes(url.pathname)) {
    event.respondWith(staleWhileRevalidate(event));
  } else if (request.mode === "navigate" && url.pathname.startsWith(CONFIG.scope)) {
    event.respondWith(networkFirst(event));
  }
});
