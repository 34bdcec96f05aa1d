// Préau — the live-lesson page (/direct/{room}).
//
// Signaling over /live/ws (docs/sfu.md): a grant from
// POST /api/v1/live/rooms/{room}/grant (fetched again before it expires),
// join, then the server always makes the offer and we answer. Our own tracks
// go on the slots an offer names (by mid). Remote video tracks become muted
// <video> tiles (screen large, cameras small); remote audio plays in hidden
// <audio> elements. Text is only ever set with textContent.

const root = document.getElementById('live');
if (root) start(root);

function start(root) {
  const room = root.dataset.room;
  const status = document.getElementById('live-status');
  const videos = document.getElementById('live-videos');
  const peopleList = document.getElementById('live-people');
  const handList = document.getElementById('live-hands');
  const cameraBtn = document.getElementById('live-camera');
  const endBtn = document.getElementById('live-end');
  const handBtn = document.getElementById('live-hand');
  const url = (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/live/ws';

  let grant = null; // {grant, expires}
  let grantTimer = 0;
  let ws = null;
  let pc = null;
  let me = '';
  let finished = false; // ended, kicked or no longer allowed: no reconnection
  let delay = 500;
  let pingTimer = 0;
  let queue = Promise.resolve(); // offers are handled one at a time
  let localStream = null;
  const people = new Map(); // user → {name, role}
  const tracks = new Map(); // track id → {id, user, source, kind}
  let hands = [];

  function setStatus(text) { status.textContent = text; }

  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ v: 1, ...msg }));
  }

  // ---- grant -------------------------------------------------------------

  async function fetchGrant() {
    const resp = await fetch('/api/v1/live/rooms/' + encodeURIComponent(room) + '/grant', {
      method: 'POST', credentials: 'same-origin', headers: { Accept: 'application/json' },
    });
    if (resp.status === 404) throw new Error('gone');
    if (!resp.ok) throw new Error('grant ' + resp.status);
    const g = await resp.json();
    grant = { grant: g.grant, expires: Date.parse(g.expires_at) };
    clearTimeout(grantTimer);
    // Fetched again a minute before it expires, so a reconnection always
    // holds a valid one.
    grantTimer = setTimeout(() => { fetchGrant().catch(() => {}); }, Math.max(grant.expires - Date.now() - 60000, 5000));
    return grant.grant;
  }

  async function currentGrant() {
    if (grant && grant.expires - Date.now() > 60000) return grant.grant;
    return fetchGrant();
  }

  // ---- signaling ---------------------------------------------------------

  async function connect() {
    if (finished) return;
    let g;
    try {
      g = await currentGrant();
    } catch (err) {
      if (err.message === 'gone') {
        finish('Ce cours est terminé ou ne vous est plus ouvert.');
        return;
      }
      retry();
      return;
    }
    ws = new WebSocket(url);
    ws.addEventListener('open', () => send({ type: 'join', room, grant: g }));
    ws.addEventListener('message', (ev) => {
      let m;
      try { m = JSON.parse(ev.data); } catch { return; }
      handle(m);
    });
    ws.addEventListener('close', () => {
      ws = null;
      clearInterval(pingTimer);
      closePeer();
      retry();
    });
  }

  function retry() {
    if (finished) return;
    setButtons(false);
    setStatus('Connexion perdue, reconnexion…');
    delete root.dataset.connected;
    setTimeout(connect, delay + Math.random() * 300);
    delay = Math.min(delay * 2, 10000);
  }

  function handle(m) {
    switch (m.type) {
      case 'joined':
        delay = 500;
        me = m.you.user;
        people.clear();
        for (const p of m.participants || []) people.set(p.user, p);
        people.set(me, m.you);
        tracks.clear();
        for (const t of m.tracks || []) tracks.set(t.id, t);
        hands = m.hands || [];
        newPeer();
        clearInterval(pingTimer);
        pingTimer = setInterval(() => send({ type: 'ping' }), 30000);
        setStatus('Connecté');
        root.dataset.connected = 'true';
        setButtons(true);
        renderPeople();
        // After a reconnection the camera is published again.
        if (localStream) send({ type: 'publish', sources: ['camera', 'microphone'] });
        break;
      case 'offer':
        queue = queue.then(() => answer(m)).catch((err) => {
          console.warn('live: offer', err);
          ws?.close();
        });
        break;
      case 'participant_joined':
        people.set(m.participant.user, m.participant);
        renderPeople();
        break;
      case 'participant_left':
        people.delete(m.participant.user);
        renderPeople();
        break;
      case 'track_added':
        tracks.set(m.track.id, m.track);
        for (const el of videos.querySelectorAll('[data-track]')) {
          if (el.dataset.track === m.track.id) el.className = tileClass(m.track.source);
        }
        break;
      case 'track_removed':
        tracks.delete(m.track.id);
        removeMedia(m.track.id);
        break;
      case 'hands':
        hands = m.hands || [];
        renderPeople();
        break;
      case 'ended':
        finish('Le cours est terminé.');
        break;
      case 'error':
        if (['kicked', 'replaced', 'locked', 'unknown_room', 'wrong_room'].includes(m.code)) {
          finish(m.message || 'Vous ne pouvez plus participer à ce cours.');
        } else {
          setStatus(m.message || 'Erreur.');
        }
        break;
    }
  }

  function finish(text) {
    finished = true;
    clearTimeout(grantTimer);
    clearInterval(pingTimer);
    setButtons(false);
    setStatus(text);
    delete root.dataset.connected;
    closePeer();
    if (ws) ws.close();
    if (localStream) for (const t of localStream.getTracks()) t.stop();
    localStream = null;
    videos.replaceChildren();
  }

  // ---- media -------------------------------------------------------------

  function newPeer() {
    closePeer();
    pc = new RTCPeerConnection();
    pc.addEventListener('icecandidate', (ev) => {
      const c = ev.candidate;
      if (!c || !c.candidate) return;
      const candidate = { candidate: c.candidate };
      if (c.sdpMid != null) candidate.sdpMid = c.sdpMid;
      if (c.sdpMLineIndex != null) candidate.sdpMLineIndex = c.sdpMLineIndex;
      if (c.usernameFragment != null) candidate.usernameFragment = c.usernameFragment;
      send({ type: 'candidate', candidate });
    });
    pc.addEventListener('track', (ev) => showTrack(ev.track));
    if (localStream) showLocal();
  }

  function closePeer() {
    if (pc) pc.close();
    pc = null;
    queue = Promise.resolve();
    for (const el of videos.querySelectorAll('[data-track]')) el.remove();
    for (const el of root.querySelectorAll('audio[data-track]')) el.remove();
  }

  async function answer(m) {
    const peer = pc;
    if (!peer) return;
    await peer.setRemoteDescription({ type: 'offer', sdp: m.sdp });
    // Our tracks go on the slots made for them, found by mid.
    for (const slot of m.slots || []) {
      const track = localTrack(slot.source);
      const tr = peer.getTransceivers().find((x) => x.mid === slot.mid);
      if (!track || !tr || tr.sender.track === track) continue;
      tr.direction = 'sendonly';
      await tr.sender.replaceTrack(track);
      if (localStream && tr.sender.setStreams) tr.sender.setStreams(localStream);
    }
    const ans = await peer.createAnswer();
    await peer.setLocalDescription(ans);
    if (peer === pc) send({ type: 'answer', sdp: peer.localDescription.sdp });
  }

  function localTrack(source) {
    if (!localStream) return null;
    if (source === 'camera') return localStream.getVideoTracks()[0] || null;
    if (source === 'microphone') return localStream.getAudioTracks()[0] || null;
    return null;
  }

  function tileClass(source) {
    return 'live-tile ' + (source === 'screen' ? 'live-screen' : 'live-camera');
  }

  function showTrack(track) {
    const info = tracks.get(track.id);
    const who = info && people.get(info.user);
    if (track.kind === 'audio') {
      const a = document.createElement('audio');
      a.autoplay = true;
      a.dataset.track = track.id;
      a.srcObject = new MediaStream([track]);
      a.hidden = true;
      root.append(a);
      return;
    }
    const fig = document.createElement('figure');
    fig.className = tileClass(info ? info.source : 'camera');
    fig.dataset.track = track.id;
    const v = document.createElement('video');
    v.autoplay = true;
    v.playsInline = true;
    v.muted = true;
    v.srcObject = new MediaStream([track]);
    const cap = document.createElement('figcaption');
    cap.textContent = (who ? who.name : 'Participant') + (info && info.source === 'screen' ? ' — écran' : '');
    fig.append(v, cap);
    if (info && info.source === 'screen') videos.prepend(fig); else videos.append(fig);
  }

  function removeMedia(id) {
    for (const el of root.querySelectorAll('[data-track]')) {
      if (el.dataset.track === id) el.remove();
    }
  }

  function showLocal() {
    if (videos.querySelector('.live-self')) return;
    const fig = document.createElement('figure');
    fig.className = 'live-tile live-camera live-self';
    const v = document.createElement('video');
    v.autoplay = true;
    v.playsInline = true;
    v.muted = true;
    v.srcObject = new MediaStream(localStream.getVideoTracks());
    const cap = document.createElement('figcaption');
    cap.textContent = 'Votre caméra';
    fig.append(v, cap);
    videos.append(fig);
  }

  // ---- people and hands ----------------------------------------------------

  function renderPeople() {
    peopleList.replaceChildren();
    const sorted = [...people.values()].sort((a, b) => a.name.localeCompare(b.name, 'fr'));
    for (const p of sorted) {
      const li = document.createElement('li');
      li.textContent = p.name + (p.role === 'moderator' ? ' (enseignant)' : '') + (p.user === me ? ' — vous' : '');
      peopleList.append(li);
    }
    handList.replaceChildren();
    for (const u of hands) {
      const li = document.createElement('li');
      li.dataset.user = u;
      li.textContent = people.get(u)?.name || 'Participant';
      handList.append(li);
    }
    if (handBtn) {
      const raised = hands.includes(me);
      handBtn.textContent = raised ? 'Baisser la main' : 'Lever la main';
      handBtn.setAttribute('aria-pressed', String(raised));
    }
  }

  function setButtons(on) {
    if (cameraBtn) cameraBtn.disabled = !on || localStream !== null;
    if (endBtn) endBtn.disabled = !on;
    if (handBtn) handBtn.disabled = !on;
  }

  cameraBtn?.addEventListener('click', async () => {
    cameraBtn.disabled = true;
    try {
      localStream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    } catch {
      setStatus('La caméra ou le micro n\'a pas pu être ouvert : vérifiez les autorisations du navigateur.');
      cameraBtn.disabled = false;
      return;
    }
    cameraBtn.textContent = 'Caméra activée';
    showLocal();
    send({ type: 'publish', sources: ['camera', 'microphone'] });
  });

  endBtn?.addEventListener('click', () => {
    send({ type: 'end' });
  });

  handBtn?.addEventListener('click', () => {
    send({ type: hands.includes(me) ? 'lower_hand' : 'raise_hand' });
  });

  window.addEventListener('pagehide', () => { finished = true; ws?.close(); });

  connect();
}
