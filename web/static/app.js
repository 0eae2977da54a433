// httpsguard web: progressive enhancement only. Every page works without
// this file; with it, a pending scan shows its progress without reloading
// and the start form cannot be sent twice.
(function () {
  'use strict';

  var form = document.getElementById('scan-form');
  if (form) {
    form.addEventListener('submit', function () {
      var button = form.querySelector('button[type=submit]');
      if (button) {
        button.disabled = true;
        button.textContent = 'Starting…';
      }
    });
  }

  var pending = document.getElementById('pending');
  if (!pending) {
    return;
  }
  var id = pending.getAttribute('data-scan');
  var status = document.getElementById('status');
  var elapsed = document.getElementById('elapsed');
  var started = Date.now();
  var delay = 1000;
  var lastText = status ? status.textContent : '';

  function say(text) {
    // Only touch the live region when the words change, so screen readers
    // are not told the same thing every second.
    if (status && text !== lastText) {
      status.textContent = text;
      lastText = text;
    }
  }

  function seconds() {
    return Math.round((Date.now() - started) / 1000);
  }

  function poll() {
    fetch('/api/v1/scans/' + encodeURIComponent(id), {
      headers: { Accept: 'application/json' },
      cache: 'no-store',
      credentials: 'same-origin'
    }).then(function (res) {
      if (!res.ok) {
        throw new Error('HTTP ' + res.status);
      }
      return res.json();
    }).then(function (scan) {
      delay = 1000;
      pending.setAttribute('data-state', scan.state);
      if (scan.state === 'done' || scan.state === 'failed') {
        say('Finished. Loading the result…');
        window.location.reload();
        return;
      }
      if (scan.state === 'queued') {
        say('Waiting in the queue: position ' + scan.queue_position + '.');
      } else {
        say('Scanning now. This usually takes a few seconds.');
      }
      if (elapsed) {
        elapsed.textContent = seconds() + ' s';
      }
      window.setTimeout(poll, delay);
    }).catch(function () {
      // The server may be restarting; back off and keep trying.
      delay = Math.min(delay * 2, 10000);
      window.setTimeout(poll, delay);
    });
  }

  window.setTimeout(poll, delay);
}());
