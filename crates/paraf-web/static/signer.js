// The signer page's only script: drawing a signature on the canvas. The drawing goes to the
// hidden `signature_drawn` field as a PNG data URL when the pen lifts. Without this script
// the page still works (type a name or upload an image).
(function () {
  "use strict";
  var pad = document.getElementById("pad");
  if (!pad) return;
  var out = document.getElementById("drawn");
  var ctx = pad.getContext("2d");
  ctx.lineWidth = 4;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.strokeStyle = "#0b2a5b";
  var down = false, last = null, moved = false;
  function at(e) {
    var r = pad.getBoundingClientRect();
    return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
  }
  pad.addEventListener("pointerdown", function (e) {
    down = true;
    last = at(e);
    if (pad.setPointerCapture) pad.setPointerCapture(e.pointerId);
    e.preventDefault();
  });
  pad.addEventListener("pointermove", function (e) {
    if (!down) return;
    var p = at(e);
    ctx.beginPath();
    ctx.moveTo(last[0], last[1]);
    ctx.lineTo(p[0], p[1]);
    ctx.stroke();
    last = p;
    moved = true;
  });
  function end() {
    if (down && moved) out.value = pad.toDataURL("image/png");
    down = false;
  }
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);
  document.getElementById("pad-clear").addEventListener("click", function () {
    ctx.clearRect(0, 0, pad.width, pad.height);
    out.value = "";
    moved = false;
  });
})();
