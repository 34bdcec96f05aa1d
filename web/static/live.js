// Préau — the live-lesson page (/direct/{room}).
//
// Signaling over /live/ws (docs/sfu.md): a grant from
// POST /api/v1/live/rooms/{room}/grant (fetched again before it expires),
// join, then the server always makes the offer and we answer. Our own tracks
// go on the slots an offer names (by mid). Remote video tracks become muted
// <video> tiles (a screen share large, cameras beside it); remote audio plays
// in hidden <audio> elements. Text is only ever set with textContent.
//
// Simulcast: the server's offer asks for the camera in three layers (RIDs q,
// h, f); when the browser answers with them, the page sizes them (a quarter,
// half and full resolution) and caps their bit rates. Each remote simulcast
// camera tile asks, with "layer", for the quality its rendered width needs.
//
// The teacher (moderator) publishes the camera and microphone, a screen
// share, or both; sees the hand queue, the waiting room and the participant
// list with their controls, and the roll call. A pupil raises a hand; given
// the floor (a "permissions" event allowing audio) the page opens the
// microphone and publishes it, and stops it when the floor is taken back.

const root = document.getElementById('live');
if (root) start(root);

function start(root) {
  const room = root.dataset.room;
  const moderator = root.dataset.moderator === 'true';
  // A meeting or a council: everyone may speak and show their camera, so
  // there is no floor to give or take back.
  const meeting = root.dataset.meeting === 'true';
  const $ = (id) => document.getElementById(id);
  const status = $('live-status');
  const videos = $('live-videos');
  const peopleList = $('live-people');
  const handList = $('live-hands');
  const lobbyList = $('live-lobby');
  const lobbyBox = $('live-lobby-box');
  const attendanceBody = $('live-attendance');
  const floorBox = $('live-floor');
  const quality = $('live-quality');
  const devicesBox = $('live-devices');
  const cameraSelect = $('live-camera-select');
  const micSelect = $('live-mic-select');
  const buttons = {
    camera: $('live-camera'), screen: $('live-screen'), both: $('live-both'), lock: $('live-lock'),
    waiting: $('live-waiting'), end: $('live-end'), hand: $('live-hand'), mic: $('live-mic'),
  };
  // ?room= lets any node forward the socket to the node that runs the room.
  const url = (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/live/ws?room=' +
    encodeURIComponent(room);

  let grant = null; // {grant, expires}
  let iceServers = []; // TURN servers handed with the grant
  let grantTimer = 0;
  let ws = null;
  let pc = null;
  let me = '';
  let connected = false;
  let finished = false; // ended, kicked or no longer allowed: no reconnection
  let delay = 500;
  let lostAt = 0; // when the connection was lost, 0 while connected
  let pingTimer = 0;
  let statsTimer = 0;
  let attendanceTimer = 0;
  let queue = Promise.resolve(); // offers are handled one at a time
  // Tracks put on the slots of our last answer, attached once the server
  // says it applied the answer ("answered"): before that, the server could
  // miss a simulcast layer's first packets, and lose the layer for good.
  let toAttach = [];
  let perm = { audio: false, video: false, screen: false };
  let locked = false;
  let waitingRoom = false;
  // Our own tracks by source, and the sender each one was attached to.
  const local = { camera: null, microphone: null, screen: null };
  const senders = {};
  const people = new Map(); // user → {name, role}
  const tracks = new Map(); // track id → {id, user, source, kind}
  const floor = new Set(); // users this page gave the floor to
  let hands = [];
  let speaker = ''; // the user speaking now (the server's speaker event)
  const spoken = new Set(); // everyone named speaking so far (tests)
  let lobby = [];

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
    // The in-process TURN relay, when the server runs one: for networks
    // that block both UDP and TCP to the media port.
    iceServers = Array.isArray(g.ice_servers) ? g.ice_servers : [];
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
    connected = false;
    render();
    setStatus('Connexion perdue, reconnexion…');
    delete root.dataset.connected;
    setTimeout(connect, delay + Math.random() * 300);
    // Every 2 s at most for the first 20 s: a lesson whose node died is
    // re-created on another within seconds (docs/reliability.md); then
    // less often, so that a long outage is not a storm of retries.
    if (!lostAt) lostAt = Date.now();
    delay = Math.min(delay * 2, Date.now() - lostAt < 20000 ? 2000 : 10000);
  }

  function handle(m) {
    switch (m.type) {
      case 'waiting':
        delay = 500;
        lostAt = 0;
        clearInterval(pingTimer);
        pingTimer = setInterval(() => send({ type: 'ping' }), 30000);
        setStatus('Salle d\'attente : l\'enseignant va vous faire entrer.');
        root.dataset.waiting = 'true';
        break;
      case 'admitted':
        delete root.dataset.waiting;
        break;
      case 'joined':
        delay = 500;
        lostAt = 0;
        delete root.dataset.waiting;
        me = m.you.user;
        people.clear();
        for (const p of m.participants || []) people.set(p.user, p);
        people.set(me, m.you);
        tracks.clear();
        for (const t of m.tracks || []) tracks.set(t.id, t);
        hands = m.hands || [];
        lobby = m.waiting || [];
        locked = !!m.locked;
        waitingRoom = !!m.waiting_room;
        perm = m.permissions || perm;
        newPeer();
        clearInterval(pingTimer);
        pingTimer = setInterval(() => send({ type: 'ping' }), 30000);
        setStatus('Connecté');
        root.dataset.connected = 'true';
        connected = true;
        render();
        // After a reconnection our tracks are published again, those still
        // allowed (a floor given before the blip is not given again).
        applyPermissions(true);
        if (moderator) send({ type: 'attendance' });
        break;
      case 'offer':
        queue = queue.then(() => answer(m)).catch((err) => {
          console.warn('live: offer', err);
          ws?.close();
        });
        break;
      case 'answered':
        queue = queue.then(() => attach()).catch((err) => console.warn('live: attach', err));
        break;
      case 'participant_joined':
        people.set(m.participant.user, m.participant);
        render();
        if (moderator) send({ type: 'attendance' });
        break;
      case 'participant_left':
        people.delete(m.participant.user);
        floor.delete(m.participant.user);
        render();
        if (moderator) send({ type: 'attendance' });
        break;
      case 'track_added':
        tracks.set(m.track.id, m.track);
        for (const el of videos.querySelectorAll('[data-track]')) {
          if (el.dataset.track !== m.track.id) continue;
          placeTile(el, m.track);
          const v = el.querySelector('video');
          if (v) askLayer(v);
        }
        break;
      case 'track_removed':
        tracks.delete(m.track.id);
        layerSent.delete(m.track.id);
        removeMedia(m.track.id);
        break;
      case 'hands':
        hands = m.hands || [];
        render();
        break;
      case 'lobby':
        lobby = m.waiting || [];
        render();
        break;
      case 'locked':
        locked = !!m.locked;
        render();
        break;
      case 'waiting_room':
        waitingRoom = !!m.waiting_room;
        render();
        break;
      case 'permissions':
        perm = m.permissions;
        applyPermissions(false);
        break;
      case 'muted':
        dropLocal('microphone', false);
        setStatus('Votre micro a été coupé par l\'enseignant.');
        render();
        break;
      case 'attendance':
        renderAttendance(m.attendance || []);
        break;
      case 'speaker':
        // The active speaker: named in the list ("parle") and outlined on
        // their camera tile: a word, not a colour alone.
        speaker = m.user || '';
        if (speaker) spoken.add(speaker);
        markSpeaker(); // in place: a full render would replace the buttons under the user's pointer
        break;
      case 'layers':
        // Which layers of our camera someone watches: the others stop
        // being encoded until the server asks for them again.
        if (m.track?.source === 'camera') {
          cameraLayers = m.active || null;
          queue = queue.then(() => layerCamera(senders.camera)).catch((err) => console.warn('live: layers', err));
        }
        break;
      case 'draining':
        setStatus(m.message || 'Le serveur redémarre.');
        break;
      case 'ended':
        finish('Le cours est terminé.');
        break;
      case 'error':
        if (['kicked', 'replaced', 'locked', 'unknown_room', 'wrong_room', 'denied'].includes(m.code)) {
          finish(m.message || 'Vous ne pouvez plus participer à ce cours.');
        } else {
          setStatus(m.message || 'Erreur.');
        }
        break;
    }
  }

  function finish(text) {
    finished = true;
    connected = false;
    clearTimeout(grantTimer);
    clearInterval(pingTimer);
    clearInterval(statsTimer);
    clearInterval(attendanceTimer);
    setStatus(text);
    delete root.dataset.connected;
    delete root.dataset.waiting;
    closePeer();
    if (ws) ws.close();
    for (const s of Object.keys(local)) dropLocal(s, false);
    videos.replaceChildren();
    render();
  }

  // ---- media -------------------------------------------------------------

  function newPeer() {
    closePeer();
    pc = new RTCPeerConnection(iceServers.length ? { iceServers } : {});
    pc.addEventListener('icecandidate', (ev) => {
      const c = ev.candidate;
      if (!c || !c.candidate) return;
      const candidate = { candidate: c.candidate };
      if (c.sdpMid != null) candidate.sdpMid = c.sdpMid;
      if (c.sdpMLineIndex != null) candidate.sdpMLineIndex = c.sdpMLineIndex;
      if (c.usernameFragment != null) candidate.usernameFragment = c.usernameFragment;
      send({ type: 'candidate', candidate });
    });
    pc.addEventListener('track', (ev) => showTrack(ev.track, remoteTrackId(ev)));
    // A network blip: after 2 s disconnected we ask the server for an ICE
    // restart (the socket is often still up; tracks and subscriptions are
    // kept); if that does not bring the connection back within 10 s, or ICE
    // fails, we rejoin: the new join replaces the old one and publishes again
    // what is still allowed.
    const peer = pc;
    let restart = 0;
    let giveUp = 0;
    pc.addEventListener('connectionstatechange', () => {
      if (peer !== pc) return;
      const state = peer.connectionState;
      if (state === 'connected') {
        clearTimeout(restart);
        clearTimeout(giveUp);
        giveUp = 0;
      } else if (state === 'failed') {
        ws?.close();
      } else if (state === 'disconnected' && !giveUp) {
        restart = setTimeout(() => { if (peer === pc) send({ type: 'ice_restart' }); }, 2000);
        giveUp = setTimeout(() => { if (peer === pc && peer.connectionState !== 'connected') ws?.close(); }, 12000);
      }
    });
    for (const s of ['camera', 'screen']) if (local[s]) showLocal(s);
  }

  function closePeer() {
    if (pc) pc.close();
    pc = null;
    for (const s of Object.keys(senders)) delete senders[s];
    queue = Promise.resolve();
    for (const el of videos.querySelectorAll('[data-track]')) dropTile(el);
    for (const el of root.querySelectorAll('audio[data-track]')) el.remove();
    layerSent.clear(); // a new connection starts on the high layers
    cameraLayers = null; // and our camera sends all its layers
  }

  async function answer(m) {
    const peer = pc;
    if (!peer) return;
    await peer.setRemoteDescription({ type: 'offer', sdp: m.sdp });
    // Our tracks go on the slots made for them, found by mid; the tracks
    // themselves once the server applied the answer (attach).
    const slots = [];
    for (const slot of m.slots || []) {
      const track = local[slot.source];
      const tr = peer.getTransceivers().find((x) => x.mid === slot.mid);
      if (!track || !tr || tr.sender.track === track) continue;
      if (senders[slot.source] && senders[slot.source] !== tr.sender) continue; // an older slot
      tr.direction = 'sendonly';
      senders[slot.source] = tr.sender;
      slots.push({ sender: tr.sender, track, source: slot.source });
    }
    const ans = await peer.createAnswer();
    await peer.setLocalDescription(ans);
    if (peer === pc) {
      toAttach = slots;
      send({ type: 'answer', sdp: peer.localDescription.sdp });
    }
  }

  // attach puts our tracks on the slots of the answer the server applied.
  async function attach() {
    const list = toAttach;
    toAttach = [];
    const attached = [];
    for (const a of list) {
      if (local[a.source] !== a.track || senders[a.source] !== a.sender) continue; // turned off meanwhile
      await a.sender.replaceTrack(a.track);
      attached.push(a.source);
    }
    // A screen share stays sharp: the encoder lowers the frame rate, never
    // the resolution, when bandwidth is short.
    if (attached.includes('camera')) await layerCamera(senders.camera);
    if (attached.includes('screen')) {
      try {
        const sender = senders.screen;
        const params = sender.getParameters();
        params.degradationPreference = 'maintain-resolution';
        await sender.setParameters(params);
      } catch (err) {
        console.warn('live: screen parameters', err);
      }
    }
  }

  // simulcastEncodings: the camera's layers, lowest first (RIDs of
  // docs/sfu.md). The server makes the offer, so the page cannot pass
  // sendEncodings to addTransceiver: the browser takes the RIDs from the
  // offer, and setParameters gives them these sizes and bit rates.
  const simulcastEncodings = {
    q: { scaleResolutionDownBy: 4, maxBitrate: 150000 },
    h: { scaleResolutionDownBy: 2, maxBitrate: 500000 },
    f: { scaleResolutionDownBy: 1, maxBitrate: 1500000 },
  };

  // cameraLayers: the RIDs of our camera's layers someone watches, from the
  // server's last "layers" (null: all).
  let cameraLayers = null;

  // layerCamera sizes the camera sender's three layers when the browser
  // negotiated them, and turns off those nobody watches; with one encoding
  // (no simulcast support, or an answer without RIDs) the sender is left as
  // it is.
  async function layerCamera(sender) {
    if (!sender) return;
    try {
      const params = sender.getParameters();
      const encs = params.encodings || [];
      if (encs.length < 3 || !encs.every((e) => simulcastEncodings[e.rid])) return;
      for (const e of encs) {
        Object.assign(e, simulcastEncodings[e.rid]);
        e.active = !cameraLayers || cameraLayers.includes(e.rid);
      }
      await sender.setParameters(params);
    } catch (err) {
      console.warn('live: camera layers', err);
    }
  }

  // publish asks the server for slots for the sources we have tracks for.
  function publish(sources) {
    const have = sources.filter((s) => local[s]);
    if (have.length) send({ type: 'publish', sources: have });
  }

  // dropLocal stops our track of source; tell says whether to ask the server
  // to stop forwarding it (take_floor and mute already did).
  function dropLocal(source, tell) {
    const track = local[source];
    if (!track) return;
    local[source] = null;
    track.stop();
    const sender = senders[source];
    delete senders[source];
    if (sender && pc && pc.connectionState !== 'closed') sender.replaceTrack(null).catch(() => {});
    if (tell) send({ type: 'unpublish', sources: [source] });
    if (source !== 'microphone') videos.querySelector('.live-self-' + source)?.remove();
  }

  async function openCamera(withVideo) {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: withVideo });
    local.microphone = stream.getAudioTracks()[0] || null;
    if (withVideo) {
      local.camera = stream.getVideoTracks()[0] || null;
      showLocal('camera');
    }
  }

  async function openScreen() {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    const track = stream.getVideoTracks()[0];
    // Text and slides: the encoder favours detail over motion.
    track.contentHint = 'detail';
    track.addEventListener('ended', () => { // "Arrêter le partage" of the browser
      dropLocal('screen', true);
      render();
    });
    local.screen = track;
    showLocal('screen');
  }

  // applyPermissions follows what we may publish now: given the floor, the
  // microphone opens (and the camera if allowed); taken back, they stop.
  async function applyPermissions(rejoined) {
    for (const s of ['microphone', 'camera', 'screen']) {
      const allowed = s === 'microphone' ? perm.audio : s === 'camera' ? perm.video : perm.screen;
      if (local[s] && !allowed) dropLocal(s, false);
    }
    if (!moderator && perm.audio && !local.microphone && !rejoined) {
      try {
        await openCamera(perm.video);
      } catch {
        setStatus('Le micro n\'a pas pu être ouvert : vérifiez les autorisations du navigateur.');
        render();
        return;
      }
      publish(['microphone', 'camera']);
    } else if (rejoined) {
      publish(['camera', 'microphone', 'screen']);
    }
    render();
  }

  // markSpeaker names whoever speaks in the participant list and outlines
  // their camera tile, changing only text and classes.
  function markSpeaker() {
    for (const li of peopleList.querySelectorAll('li[data-user]')) {
      const on = !!speaker && li.dataset.user === speaker;
      li.classList.toggle('speaking', on);
      const name = li.querySelector('.live-name');
      if (name && name.dataset.base !== undefined) name.textContent = name.dataset.base + (on ? ' — parle' : '');
    }
    for (const fig of videos.querySelectorAll('figure[data-track]')) {
      const info = tracks.get(fig.dataset.track);
      const on = !!speaker && !!info && info.user === speaker && info.source === 'camera';
      fig.classList.toggle('live-speaking', on);
      const cap = fig.querySelector('figcaption');
      if (cap && info) cap.textContent = (people.get(info.user)?.name || 'Participant') + (info.source === 'screen' ? ' — écran' : '') + (on ? ' — parle' : '');
    }
  }

  function tileClass(source) {
    return 'live-tile ' + (source === 'screen' ? 'live-screen' : 'live-camera');
  }

  // placeTile puts a screen share first (large), cameras after it.
  function placeTile(fig, info) {
    fig.className = tileClass(info.source);
    fig.dataset.source = info.source;
    const who = people.get(info.user);
    const cap = fig.querySelector('figcaption');
    if (cap) cap.textContent = (who ? who.name : 'Participant') + (info.source === 'screen' ? ' — écran' : '');
    if (info.source === 'screen') videos.prepend(fig);
    markSpeaker();
  }

  // remoteTrackId is the TrackInfo id of a received track: the track id of
  // the a=msid line of its m-section (found by mid). Chromium also uses it
  // as track.id; Firefox gives remote tracks ids of its own.
  function remoteTrackId(ev) {
    const mid = ev.transceiver?.mid;
    const sdp = ev.currentTarget?.remoteDescription?.sdp || '';
    for (const section of sdp.split(/\r?\nm=/)) {
      const lines = section.split(/\r?\n/);
      if (mid == null || !lines.includes('a=mid:' + mid)) continue;
      const msid = lines.find((l) => l.startsWith('a=msid:'))?.split(' ')[1];
      if (msid) return msid;
    }
    return ev.track.id;
  }

  function showTrack(track, id) {
    const info = tracks.get(id);
    if (track.kind === 'audio') {
      const a = document.createElement('audio');
      a.autoplay = true;
      a.dataset.track = id;
      a.srcObject = new MediaStream([track]);
      a.hidden = true;
      root.append(a);
      // A browser may refuse to play sound before the user clicked on this
      // page: offer a button that plays every remote audio.
      a.play?.()?.catch((err) => { if (err?.name === 'NotAllowedError') offerSound(); });
      return;
    }
    const fig = document.createElement('figure');
    fig.dataset.track = id;
    const v = document.createElement('video');
    v.autoplay = true;
    v.playsInline = true;
    v.muted = true;
    v.srcObject = new MediaStream([track]);
    const cap = document.createElement('figcaption');
    fig.append(v, cap);
    videos.append(fig);
    placeTile(fig, info || { source: 'camera', user: '' });
    if (info?.source !== 'screen') tileSizes.observe(v);
  }

  // ---- simulcast layers --------------------------------------------------
  //
  // A camera tile asks for the layer its width needs (in device pixels):
  // under 320 the low one, under 640 the medium, else the high one. Sizes
  // are read by a ResizeObserver and sent 300 ms after the last change;
  // only a simulcast camera gets "layer" (the server answers not_found for
  // another track).
  const layerSent = new Map(); // track id → quality last sent
  const layerTimers = new Map(); // <video> → debounce timer
  const tileSizes = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const v = entry.target;
      clearTimeout(layerTimers.get(v));
      if (!v.isConnected) {
        tileSizes.unobserve(v);
        layerTimers.delete(v);
        continue;
      }
      layerTimers.set(v, setTimeout(() => { layerTimers.delete(v); askLayer(v); }, 300));
    }
  });

  function askLayer(v) {
    const id = v.closest('[data-track]')?.dataset.track;
    const info = id && tracks.get(id);
    if (!v.isConnected || !info || !info.simulcast || info.source !== 'camera') return;
    const width = v.getBoundingClientRect().width * (window.devicePixelRatio || 1);
    const q = width < 320 ? 'low' : width < 640 ? 'medium' : 'high';
    // The server starts each subscriber on the high layer.
    if ((layerSent.get(id) || 'high') === q) return;
    layerSent.set(id, q);
    send({ type: 'layer', track: id, quality: q });
  }

  function offerSound() {
    if (document.getElementById('live-sound')) return;
    const b = button('Activer le son', 'primary', () => {
      for (const el of root.querySelectorAll('audio[data-track]')) el.play().catch(() => {});
      b.remove();
    });
    b.id = 'live-sound';
    status.after(b);
  }

  function removeMedia(id) {
    for (const el of root.querySelectorAll('[data-track]')) {
      if (el.dataset.track === id) dropTile(el);
    }
  }

  function dropTile(el) {
    const v = el.querySelector?.('video');
    if (v) {
      tileSizes.unobserve(v);
      clearTimeout(layerTimers.get(v));
      layerTimers.delete(v);
    }
    el.remove();
  }

  function showLocal(source) {
    if (!local[source] || videos.querySelector('.live-self-' + source)) return;
    const fig = document.createElement('figure');
    fig.className = tileClass(source) + ' live-self live-self-' + source;
    const v = document.createElement('video');
    v.autoplay = true;
    v.playsInline = true;
    v.muted = true;
    v.srcObject = new MediaStream([local[source]]);
    const cap = document.createElement('figcaption');
    cap.textContent = source === 'screen' ? 'Votre écran' : 'Votre caméra';
    fig.append(v, cap);
    if (source === 'screen') videos.prepend(fig); else videos.append(fig);
  }

  // ---- people, hands, lobby ------------------------------------------------

  function button(text, cls, onClick, label) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = cls;
    b.textContent = text;
    if (label) b.setAttribute('aria-label', label);
    b.addEventListener('click', onClick);
    return b;
  }

  function nameOf(u) { return people.get(u)?.name || 'Participant'; }

  function giveFloor(u, video) {
    floor.add(u);
    send({ type: 'give_floor', user: u, ...(video ? { video: true } : {}) });
    render();
  }

  function takeFloor(u) {
    floor.delete(u);
    send({ type: 'take_floor', user: u });
    render();
  }

  function render() {
    fillDevices();
    peopleList.replaceChildren();
    const sorted = [...people.values()].sort((a, b) => a.name.localeCompare(b.name, 'fr'));
    for (const p of sorted) {
      const li = document.createElement('li');
      li.dataset.user = p.user;
      const name = document.createElement('span');
      name.className = 'live-name';
      name.dataset.base = p.name + (p.role === 'moderator' ? (room.startsWith('conseil-') ? ' (anime le conseil)' : ' (enseignant)') : '') +
        (p.user === me ? ' — vous' : '') +
        (floor.has(p.user) ? ' — a la parole' : '');
      name.textContent = name.dataset.base + (p.user === speaker ? ' — parle' : '');
      li.classList.toggle('speaking', p.user === speaker);
      li.append(name);
      if (moderator && connected && p.user !== me && p.role !== 'moderator') {
        const actions = document.createElement('span');
        actions.className = 'live-actions';
        if (meeting) {
          // no floor in a meeting
        } else if (floor.has(p.user)) {
          actions.append(button('Reprendre la parole', 'small', () => takeFloor(p.user), 'Reprendre la parole à ' + p.name));
        } else {
          actions.append(button('Donner la parole', 'small', () => giveFloor(p.user, false), 'Donner la parole à ' + p.name));
        }
        const from = meeting ? ' de la réunion' : ' du cours';
        actions.append(
          button('Couper le micro', 'small', () => send({ type: 'mute', user: p.user }), 'Couper le micro de ' + p.name),
          button('Retirer', 'small danger', () => {
            if (confirm('Retirer ' + p.name + from + ' ? Il ne pourra pas revenir.')) send({ type: 'kick', user: p.user });
          }, 'Retirer ' + p.name + from),
        );
        li.append(actions);
      }
      peopleList.append(li);
    }

    handList.replaceChildren();
    for (const u of hands) {
      const li = document.createElement('li');
      li.dataset.user = u;
      const name = document.createElement('span');
      name.className = 'live-name';
      name.textContent = nameOf(u);
      li.append(name);
      if (moderator && connected) {
        const actions = document.createElement('span');
        actions.className = 'live-actions';
        actions.append(
          button('Donner la parole', 'small primary', () => giveFloor(u, false), 'Donner la parole à ' + nameOf(u)),
          button('Avec vidéo', 'small', () => giveFloor(u, true), 'Donner la parole avec vidéo à ' + nameOf(u)),
        );
        li.append(actions);
      }
      handList.append(li);
    }

    if (lobbyList) {
      lobbyList.replaceChildren();
      for (const p of lobby) {
        const li = document.createElement('li');
        li.dataset.user = p.user;
        const name = document.createElement('span');
        name.className = 'live-name';
        name.textContent = p.name;
        li.append(name, button('Admettre', 'small primary', () => send({ type: 'admit', user: p.user }), 'Admettre ' + p.name),
          button('Refuser', 'small danger', () => send({ type: 'deny', user: p.user }), 'Refuser ' + p.name));
        lobbyList.append(li);
      }
      if (lobbyBox) lobbyBox.hidden = !waitingRoom && lobby.length === 0;
    }

    const b = buttons;
    const on = connected;
    if (b.camera) {
      b.camera.disabled = !on;
      b.camera.textContent = local.camera ? 'Couper la caméra' : 'Caméra';
      b.camera.setAttribute('aria-pressed', String(!!local.camera));
    }
    if (b.screen) {
      b.screen.disabled = !on;
      b.screen.textContent = local.screen ? 'Arrêter le partage' : 'Partager l\'écran';
      b.screen.setAttribute('aria-pressed', String(!!local.screen));
    }
    if (b.both) b.both.disabled = !on || (local.camera && local.screen);
    if (b.lock) {
      b.lock.disabled = !on;
      b.lock.textContent = locked ? 'Déverrouiller la salle' : 'Verrouiller la salle';
      b.lock.setAttribute('aria-pressed', String(locked));
    }
    if (b.waiting) {
      b.waiting.disabled = !on;
      b.waiting.textContent = waitingRoom ? 'Désactiver la salle d\'attente' : 'Activer la salle d\'attente';
      b.waiting.setAttribute('aria-pressed', String(waitingRoom));
    }
    if (b.end) b.end.disabled = !on;
    if (b.hand) {
      const raised = hands.includes(me);
      b.hand.disabled = !on;
      b.hand.textContent = raised ? 'Baisser la main' : 'Lever la main';
      b.hand.setAttribute('aria-pressed', String(raised));
    }
    if (floorBox) {
      const has = on && perm.audio && !moderator;
      floorBox.hidden = !has;
      if (has) {
        floorBox.querySelector('.live-floor-text').textContent = local.microphone
          ? 'Vous avez la parole : votre micro est ouvert.' + (local.camera ? ' Votre caméra aussi.' : '')
          : 'Vous avez la parole, votre micro est coupé.';
      }
      if (b.mic) b.mic.textContent = local.microphone ? 'Couper mon micro' : 'Ouvrir mon micro';
    }
  }

  function duration(ms) {
    const min = Math.floor(ms / 60000);
    const s = Math.floor((ms % 60000) / 1000);
    return min + ' min ' + String(s).padStart(2, '0') + ' s';
  }

  function clock(iso) {
    return iso ? new Date(iso).toLocaleTimeString('fr-FR', { hour: '2-digit', minute: '2-digit' }) : '';
  }

  function renderAttendance(rows) {
    if (!attendanceBody) return;
    attendanceBody.replaceChildren();
    for (const r of rows) {
      const tr = document.createElement('tr');
      tr.dataset.user = r.user;
      for (const text of [r.name, clock(r.first_join), r.present ? 'présent' : 'parti à ' + clock(r.last_leave), duration(r.total_ms)]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      attendanceBody.append(tr);
    }
  }

  // ---- device selection ------------------------------------------------------

  // fillDevices lists cameras and microphones (labels are known once a
  // device was opened) and marks the ones in use.
  async function fillDevices() {
    if (!devicesBox) return;
    const publishing = local.camera || local.microphone;
    devicesBox.hidden = !publishing;
    if (!publishing) return;
    let devices = [];
    try { devices = await navigator.mediaDevices.enumerateDevices(); } catch { return; }
    const fill = (select, kind, track) => {
      if (document.activeElement === select) return; // the user is choosing
      const current = track?.getSettings().deviceId || '';
      select.replaceChildren();
      let n = 0;
      for (const d of devices) {
        if (d.kind !== kind) continue;
        n++;
        const o = document.createElement('option');
        o.value = d.deviceId;
        o.textContent = d.label || (kind === 'videoinput' ? 'Caméra ' : 'Micro ') + n;
        o.selected = d.deviceId === current;
        select.append(o);
      }
      select.disabled = n < 2;
      select.closest('label').hidden = !track; // only what we publish (see .live [hidden])
    };
    fill(cameraSelect, 'videoinput', local.camera);
    fill(micSelect, 'audioinput', local.microphone);
  }

  // switchDevice opens the chosen device and puts its track on the same
  // sender: no renegotiation, the others keep the same track.
  async function switchDevice(source, deviceId) {
    const old = local[source];
    if (!old) return;
    let track;
    try {
      const constraints = source === 'camera' ? { video: { deviceId: { exact: deviceId } } } : { audio: { deviceId: { exact: deviceId } } };
      const stream = await navigator.mediaDevices.getUserMedia(constraints);
      track = source === 'camera' ? stream.getVideoTracks()[0] : stream.getAudioTracks()[0];
    } catch {
      setStatus('Ce périphérique n\'a pas pu être ouvert.');
      fillDevices();
      return;
    }
    local[source] = track;
    const sender = senders[source];
    if (sender) await sender.replaceTrack(track).catch(() => {});
    old.stop();
    if (source === 'camera') {
      const v = videos.querySelector('.live-self-camera video');
      if (v) v.srcObject = new MediaStream([track]);
    }
    fillDevices();
  }
  cameraSelect?.addEventListener('change', () => switchDevice('camera', cameraSelect.value));
  micSelect?.addEventListener('change', () => switchDevice('microphone', micSelect.value));

  // ---- buttons -------------------------------------------------------------

  async function toggleCamera() {
    if (local.camera) {
      dropLocal('camera', true);
      dropLocal('microphone', true);
      render();
      return;
    }
    try {
      await openCamera(true);
    } catch {
      setStatus('La caméra ou le micro n\'a pas pu être ouvert : vérifiez les autorisations du navigateur.');
      return;
    }
    publish(['camera', 'microphone']);
    render();
  }

  async function toggleScreen() {
    if (local.screen) {
      dropLocal('screen', true);
      render();
      return;
    }
    try {
      await openScreen();
    } catch {
      setStatus('Le partage d\'écran a été annulé ou refusé.');
      return;
    }
    publish(['screen']);
    render();
  }

  buttons.camera?.addEventListener('click', toggleCamera);
  buttons.screen?.addEventListener('click', toggleScreen);
  buttons.both?.addEventListener('click', async () => {
    // The screen first: getDisplayMedia needs the click's user activation,
    // which Firefox (like Chromium) lets expire after a few seconds, e.g.
    // while the user answers the camera's permission prompt.
    if (!local.screen) await toggleScreen();
    if (!local.camera) await toggleCamera();
  });
  buttons.lock?.addEventListener('click', () => send({ type: 'lock', locked: !locked }));
  buttons.waiting?.addEventListener('click', () => send({ type: 'waiting_room', waiting_room: !waitingRoom }));
  buttons.end?.addEventListener('click', () => send({ type: 'end' }));
  buttons.hand?.addEventListener('click', () => send({ type: hands.includes(me) ? 'lower_hand' : 'raise_hand' }));
  buttons.mic?.addEventListener('click', async () => {
    if (local.microphone) {
      dropLocal('microphone', true);
      render();
      return;
    }
    if (!perm.audio) return;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      local.microphone = stream.getAudioTracks()[0];
    } catch {
      setStatus('Le micro n\'a pas pu être ouvert : vérifiez les autorisations du navigateur.');
      return;
    }
    publish(['microphone']);
    render();
  });

  // ---- connection quality ----------------------------------------------------

  // Every 3 s: round-trip time of the selected candidate pair and the loss
  // of what we receive, turned into a word.
  let lastLoss = { lost: 0, received: 0 };
  async function measure() {
    if (!pc || !quality) return;
    let rtt = null;
    let lost = 0;
    let received = 0;
    const report = await pc.getStats();
    report.forEach((s) => {
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' && s.currentRoundTripTime != null) rtt = s.currentRoundTripTime;
      if (s.type === 'inbound-rtp') {
        lost += s.packetsLost || 0;
        received += s.packetsReceived || 0;
      }
    });
    const dl = lost - lastLoss.lost;
    const dr = received - lastLoss.received;
    lastLoss = { lost, received };
    const loss = dl + dr > 0 ? Math.max(0, dl) / (dl + dr) : 0;
    let word = 'bonne';
    if (rtt == null) word = 'inconnue';
    else if (rtt > 0.4 || loss > 0.08) word = 'mauvaise';
    else if (rtt > 0.15 || loss > 0.02) word = 'moyenne';
    quality.dataset.level = word;
    quality.textContent = 'Connexion : ' + word + (rtt == null ? '' : ' (' + Math.round(rtt * 1000) + ' ms, ' + (loss * 100).toFixed(1) + ' % de pertes)');
  }
  statsTimer = setInterval(() => { measure().catch(() => {}); }, 3000);
  if (moderator) attendanceTimer = setInterval(() => send({ type: 'attendance' }), 15000);

  // For tests and diagnostics: what we receive, by kind, from getStats.
  window.preauLive = {
    // blip drops the signaling socket and the PeerConnection, as a network
    // cut would; the page must resume by itself.
    blip() { pc?.close(); ws?.close(); },
    // speaker: the user the server names as speaking now ('': nobody).
    speaker() { return speaker; },
    // spoken: everyone the server named as speaking since the page opened.
    spoken() { return [...spoken]; },
    // restartIce asks for an ICE restart now, as a disconnection would.
    restartIce() { send({ type: 'ice_restart' }); },
    // iceState: the PeerConnection's state and the server's ICE ufrag.
    iceState() {
      const m = pc?.remoteDescription?.sdp.match(/a=ice-ufrag:(\S+)/);
      return { state: pc?.connectionState || '', ufrag: m ? m[1] : '' };
    },
    // encodings: the layers our sender of source sends (rid, scale, bit
    // rate), as the browser negotiated them.
    encodings(source) {
      const sender = senders[source];
      if (!sender) return [];
      return (sender.getParameters().encodings || []).map((e) => ({
        rid: e.rid || '', scale: e.scaleResolutionDownBy || 1, maxBitrate: e.maxBitrate || 0, active: e.active !== false,
      }));
    },
    // width is the widest frame decoded last (video).
    async inbound(kind) {
      const out = { packets: 0, bytes: 0, frames: 0, width: 0 };
      if (!pc) return out;
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === kind) {
          out.packets += s.packetsReceived || 0;
          out.bytes += s.bytesReceived || 0;
          out.frames += s.framesDecoded || 0;
          out.width = Math.max(out.width, s.frameWidth || 0);
        }
      });
      return out;
    },
    // outbound: what we send of kind, per outbound-rtp stream (one per
    // simulcast layer), from getStats.
    async outbound(kind) {
      const out = [];
      if (!pc) return out;
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'outbound-rtp' && s.kind === kind) {
          out.push({ rid: s.rid || '', packets: s.packetsSent || 0, bytes: s.bytesSent || 0,
            frames: s.framesEncoded || 0, width: s.frameWidth || 0 });
        }
      });
      return out;
    },
  };

  window.addEventListener('pagehide', () => { finished = true; ws?.close(); });

  render();
  connect();
}
