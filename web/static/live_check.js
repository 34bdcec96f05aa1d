// Préau — "Tester mon matériel" (/direct/test): the camera (a preview), the
// microphone (a level meter from an AnalyserNode) and the network path to
// the school's SFU over /live/check: the server offers a PeerConnection with
// a data channel and says which candidate pair opened it. The page tries
// UDP, then TCP, each alone: it keeps only that protocol's candidates, the
// server's and its own. Text is only ever set with textContent.

const startBtn = document.getElementById('check-start');
if (startBtn) startBtn.addEventListener('click', run);

const $ = (id) => document.getElementById(id);

function set(id, state, text) {
  const el = $(id);
  el.dataset.state = state;
  el.textContent = text;
}

async function run() {
  startBtn.disabled = true;
  $('check-verdict').textContent = 'Test en cours…';
  const [cam, mic] = await Promise.all([checkCamera(), checkMicro()]);
  const net = await checkNetwork();
  const ok = [cam, mic, net];
  let verdict;
  if (ok.every(Boolean)) verdict = 'Tout fonctionne : vous pouvez suivre les cours en direct.';
  else if (!net) verdict = 'Votre réseau ne joint pas le serveur des cours en direct : essayez un autre réseau (partage de connexion du téléphone) ou signalez-le à l\'établissement.';
  else verdict = 'Vous pourrez suivre les cours, mais ' + (!cam && !mic ? 'ni la caméra ni le micro ne fonctionnent' : !cam ? 'la caméra ne fonctionne pas' : 'le micro ne fonctionne pas') + ' : vérifiez les autorisations du navigateur.';
  $('check-verdict').textContent = verdict;
  $('check-verdict').dataset.ok = String(ok.every(Boolean));
  startBtn.disabled = false;
  startBtn.textContent = 'Relancer le test';
}

async function checkCamera() {
  set('check-camera', 'pending', 'test en cours…');
  try {
    const s = await navigator.mediaDevices.getUserMedia({ video: true });
    const v = $('check-preview');
    v.srcObject = s;
    v.hidden = false;
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no frame')), 5000);
      v.addEventListener('loadeddata', () => { clearTimeout(t); resolve(); }, { once: true });
    });
    set('check-camera', 'ok', 'caméra OK (' + v.videoWidth + ' × ' + v.videoHeight + ')');
    return true;
  } catch (err) {
    set('check-camera', 'fail', err && err.name === 'NotAllowedError'
      ? 'accès refusé : autorisez la caméra dans le navigateur'
      : 'aucune caméra utilisable');
    return false;
  }
}

async function checkMicro() {
  set('check-micro', 'pending', 'parlez pour tester…');
  let s;
  try {
    s = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (err) {
    set('check-micro', 'fail', err && err.name === 'NotAllowedError'
      ? 'accès refusé : autorisez le micro dans le navigateur'
      : 'aucun micro utilisable');
    return false;
  }
  const ctx = new AudioContext();
  // resume() never settles where the browser cannot start audio (Firefox
  // headless, no sound output): do not let it hold the network check.
  await Promise.race([ctx.resume(), new Promise((resolve) => setTimeout(resolve, 1000))]).catch(() => {});
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 512;
  ctx.createMediaStreamSource(s).connect(analyser);
  const data = new Uint8Array(analyser.fftSize);
  const meter = $('check-level');
  let heard = false;
  const until = Date.now() + 4000;
  // Level = peak deviation from silence (128) of the waveform, over 4 s or
  // until a sound is heard, then the meter keeps moving while on the page.
  await new Promise((resolve) => {
    const tick = () => {
      analyser.getByteTimeDomainData(data);
      let peak = 0;
      for (const x of data) peak = Math.max(peak, Math.abs(x - 128));
      meter.value = Math.min(100, Math.round(peak / 128 * 100 * 2));
      if (peak > 4) heard = true;
      if (heard || Date.now() > until) resolve();
      setTimeout(tick, 50);
    };
    tick();
  });
  set('check-micro', heard ? 'ok' : 'fail', heard ? 'micro OK' : 'micro ouvert, mais aucun son : vérifiez qu\'il n\'est pas coupé');
  return heard;
}

async function checkNetwork() {
  set('check-network', 'pending', 'test en cours…');
  const udp = await tryProtocol('udp');
  $('check-udp').textContent = udp ? 'joignable' : 'non joignable';
  const tcp = await tryProtocol('tcp');
  $('check-tcp').textContent = tcp ? 'joignable' : 'non joignable';
  if (udp || tcp) {
    set('check-network', 'ok', 'réseau OK' + (udp ? '' : ' (par TCP seulement : la vidéo peut être moins fluide)'));
    return true;
  }
  set('check-network', 'fail', 'le serveur des cours en direct n\'est pas joignable depuis ce réseau');
  return false;
}

// keep drops the candidate lines of the other protocol from an SDP.
function keep(sdp, proto) {
  return sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate:') || l.split(' ')[2].toLowerCase() === proto).join('\r\n');
}

// tryProtocol resolves true when the server says a data channel opened over
// proto within 8 s.
function tryProtocol(proto) {
  return new Promise((resolve) => {
    const url = (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/live/check';
    let ws;
    try { ws = new WebSocket(url); } catch { resolve(false); return; }
    const pc = new RTCPeerConnection();
    let done = false;
    const finish = (ok) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      pc.close();
      ws.close();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), 8000);
    const send = (m) => { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ v: 1, ...m })); };
    pc.addEventListener('icecandidate', (ev) => {
      const c = ev.candidate;
      if (!c || !c.candidate || (c.protocol || c.candidate.split(' ')[2]).toLowerCase() !== proto) return;
      const candidate = { candidate: c.candidate };
      if (c.sdpMid != null) candidate.sdpMid = c.sdpMid;
      if (c.sdpMLineIndex != null) candidate.sdpMLineIndex = c.sdpMLineIndex;
      send({ type: 'candidate', candidate });
    });
    ws.addEventListener('message', async (ev) => {
      let m;
      try { m = JSON.parse(ev.data); } catch { return; }
      if (m.type === 'offer') {
        try {
          await pc.setRemoteDescription({ type: 'offer', sdp: keep(m.sdp, proto) });
          await pc.setLocalDescription(await pc.createAnswer());
          send({ type: 'answer', sdp: keep(pc.localDescription.sdp, proto) });
        } catch {
          finish(false);
        }
      } else if (m.type === 'connected') {
        finish(!!m.result && m.result.network === proto);
      } else if (m.type === 'error') {
        finish(false);
      }
    });
    ws.addEventListener('close', () => finish(false));
    ws.addEventListener('error', () => finish(false));
  });
}
