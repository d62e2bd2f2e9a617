// The verification page: a chosen PDF is hashed here (Web Crypto) and only its SHA-256 goes
// to the server, as the hash form's query. Web Crypto exists on https pages and on localhost.
(function () {
  var pick = document.getElementById('pick');
  var note = document.getElementById('pick-note');
  var hash = document.getElementById('hash');
  var form = document.getElementById('hash-form');
  if (!pick || !hash || !form) { return; }
  pick.addEventListener('change', function () {
    var f = pick.files && pick.files[0];
    if (!f) { return; }
    if (!window.crypto || !window.crypto.subtle) {
      note.textContent = 'Peramban ini tidak dapat menghitung SHA-256 di halaman http; tempel hash (sha256sum file.pdf). / This browser cannot hash on an http page: paste the hash (sha256sum file.pdf).';
      return;
    }
    note.textContent = '';
    f.arrayBuffer().then(function (buf) {
      return window.crypto.subtle.digest('SHA-256', buf);
    }).then(function (digest) {
      var bytes = new Uint8Array(digest);
      var hex = '';
      for (var i = 0; i < bytes.length; i++) { hex += ('0' + bytes[i].toString(16)).slice(-2); }
      hash.value = hex;
      form.submit();
    }).catch(function () {
      note.textContent = 'File tidak dapat dibaca. / The file could not be read.';
    });
  });
}());
