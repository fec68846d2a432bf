// The cookie banner answers through htmx without a page load; the button that was pressed goes
// away with the question, so focus moves to the saved notice instead of falling to the page's start.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function () {
    const banner = document.getElementById("consent-banner");
    if (banner && banner.querySelector(".consent-saved")) banner.focus({ preventScroll: true });
  });
})();
