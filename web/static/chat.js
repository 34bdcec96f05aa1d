// Préau — the live conversation page (/messagerie/{id}).
//
// The page is complete without this script: messages are rendered by the
// server and the composer posts a form. Here we subscribe over /ws/chat
// (docs/protocol.md, "Chat") after the last seq rendered, append what
// arrives, send with a client_id per message (resent with the same id after
// a reconnection: stored once), and mark read what the user can see.
// Text is only ever set with textContent; links become <a> built by hand.
// Messages that arrive live get the same controls as rendered ones
// (Répondre, Signaler, Retirer / Supprimer, Modifier), built with DOM calls;
// files are attached by id (uploaded first to /messagerie/{id}/pieces-jointes
// or chosen from Mes documents) and sent in the send frame.

const root = document.getElementById('chat');
if (root) start(root);
const badge = document.querySelector('[data-unread-badge]');
if (badge) startBadge(badge);

// startBadge keeps the home page's Messagerie badge live: the unread total
// from /messagerie/non-lus, then one more for each message of someone else
// that arrives on the conversations it subscribed to (after their last seq,
// so nothing is replayed — but messages held for quiet hours, which the
// count leaves out and the hub sends when the hours open).
async function startBadge(badge) {
  let state;
  try {
    const resp = await fetch('/messagerie/non-lus', { credentials: 'same-origin' });
    if (!resp.ok) return;
    state = await resp.json();
  } catch { return; }
  const me = Number(badge.dataset.me) || 0;
  let unread = state.unread;
  const seen = new Map(state.conversations.map((c) => [c.id, c.last_seq]));
  function show() {
    badge.textContent = unread > 99 ? '99+' : String(unread);
    badge.hidden = unread === 0;
    badge.setAttribute('aria-label', unread + ' message' + (unread > 1 ? 's' : '') + ' non lu' + (unread > 1 ? 's' : ''));
  }
  show();
  if (state.conversations.length === 0) return;
  let delay = 1000;
  function connect() {
    if (seen.size === 0) return; // left every conversation it followed
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/ws/chat');
    ws.addEventListener('open', () => {
      delay = 1000;
      // notify: new messages only, and those posted outside a conversation's
      // opening hours once they open (quiet hours, docs/protocol.md).
      const conversations = [...seen].map(([id, seq]) => ({ id, after_seq: seq, notify: true }));
      ws.send(JSON.stringify({ v: 1, type: 'subscribe', id: 1, data: { conversations } }));
    });
    ws.addEventListener('message', (ev) => {
      let f;
      try { f = JSON.parse(ev.data); } catch { return; }
      const d = f.data || {};
      if (f.type === 'subscribed') badge.dataset.live = 'true'; // for tests
      if (f.type === 'unsubscribed') { seen.delete(d.conversation); return; }
      if (f.type !== 'message' || !seen.has(d.conversation) || d.seq <= seen.get(d.conversation)) return;
      seen.set(d.conversation, d.seq);
      if (d.sender !== me && !d.deleted_at_ms) {
        unread++;
        show();
      }
    });
    ws.addEventListener('close', () => {
      setTimeout(connect, delay + Math.random() * 500);
      delay = Math.min(delay * 2, 30000);
    });
  }
  connect();
}

function start(root) {
  const conv = Number(root.dataset.conversation);
  const me = Number(root.dataset.me);
  const list = document.getElementById('chat-list');
  const form = document.getElementById('composer');
  const input = document.getElementById('texte');
  const status = document.getElementById('chat-status');
  const presenceLine = document.getElementById('chat-presence');
  const moderator = root.dataset.moderator === 'true';
  const reportConv = root.dataset.report === 'true';
  const canPost = root.dataset.canPost === 'true';
  const editWindowMs = 15 * 60 * 1000; // chat.EditWindow
  const maxAttachments = 5;
  const maxAttachmentSize = 10 << 20;
  const attachBox = document.getElementById('composer-attach');
  const attachInput = document.getElementById('pj');
  const docsSelect = document.getElementById('pj-docs');
  const attachList = document.getElementById('pj-list');
  const replyInfo = document.getElementById('reply-info');
  const replyText = document.getElementById('reply-text');
  const replyField = document.getElementById('reply-to');
  let attachments = []; // {id, name, size} chosen for the next message
  let replyTo = 0;
  const url = (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/ws/chat';

  const names = new Map();
  for (const li of document.querySelectorAll('#chat-people [data-user]')) {
    names.set(Number(li.dataset.user), li.textContent);
  }
  const dateFmt = new Intl.DateTimeFormat('fr-FR', {
    timeZone: 'Europe/Paris', day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit',
  });

  // lastSeq: the highest seq below which we hold every message; we resume
  // from it. have: seqs held above it (live messages may come out of order).
  let lastSeq = Number(root.dataset.lastSeq) || 0;
  const have = new Set();
  let readSent = lastSeq; // the server marked read what it rendered
  const pending = new Map(); // client_id → {body, attachments, reply_to}, until acked
  const requests = new Map(); // request id → client_id
  let ws = null;
  let nextID = 1;
  let delay = 500;
  let gone = false; // removed from the conversation: no reconnecting

  function setStatus(text) { status.textContent = text; }

  function frame(type, data) {
    const id = nextID++;
    ws.send(JSON.stringify({ v: 1, type, id, data }));
    return id;
  }

  function sendPending(clientID, p) {
    const data = { conversation: conv, client_id: clientID, body: p.body };
    if (p.attachments.length) data.attachments = p.attachments;
    if (p.reply_to) data.reply_to = p.reply_to;
    requests.set(frame('send', data), clientID);
  }

  function connect() {
    ws = new WebSocket(url);
    ws.addEventListener('open', () => {
      delay = 500;
      setStatus('');
      frame('subscribe', { conversations: [{ id: conv, after_seq: lastSeq }] });
      for (const [clientID, p] of pending) sendPending(clientID, p);
    });
    ws.addEventListener('message', (ev) => {
      let f;
      try { f = JSON.parse(ev.data); } catch { return; }
      handle(f);
    });
    ws.addEventListener('close', (ev) => {
      ws = null;
      delete root.dataset.live;
      if (gone) return;
      // 4001: the session ended (or another one of the account did): the
      // reconnection tells which; a page whose session ended goes to the
      // login page on its next load.
      // 1008: too many messages or tabs; wait longer before coming back.
      const wait = ev.code === 1008 ? 10000 : delay;
      delay = Math.min(delay * 2, 15000);
      setStatus(ev.code === 1008 && ev.reason ? ev.reason : 'Connexion interrompue, reconnexion…');
      setTimeout(connect, wait + Math.random() * 300);
    });
  }

  function handle(f) {
    const d = f.data || {};
    switch (f.type) {
      case 'message':
        if (d.conversation === conv) show(d);
        break;
      case 'subscribed':
        // Tests and styles can tell a live page from a plain one.
        if (d.conversation === conv) {
          root.dataset.live = 'true';
          frame('presence', { conversation: conv });
        }
        break;
      case 'presence':
        // A small conversation: every member (answer) or one who changed.
        if (d.conversation !== conv) break;
        for (const m of d.members || []) presence.set(m.user, m.state);
        showPresence();
        break;
      case 'presence_count':
        if (d.conversation !== conv) break;
        presenceLine.textContent = d.online + ' en ligne sur ' + d.members + (d.away ? ', ' + d.away + ' absent(s)' : '');
        break;
      case 'typing':
        if (d.conversation === conv && d.user !== me) showTyping(d.user);
        break;
      case 'unsubscribed':
        // Removed from the conversation: nothing more comes, sending is refused.
        if (d.conversation !== conv) break;
        gone = true;
        delete root.dataset.live;
        root.dataset.removed = 'true';
        if (form) form.hidden = true;
        setStatus('Vous ne faites plus partie de cette conversation.');
        if (ws) ws.close(1000);
        break;
      case 'ack': {
        if (d.conversation !== conv) break;
        pending.delete(d.client_id);
        const li = mineLi(d.client_id);
        if (li) {
          li.dataset.seq = String(d.seq);
          setState(li, 'envoyé', false);
        }
        break;
      }
      case 'error': {
        const clientID = requests.get(f.id);
        const p = clientID && pending.get(clientID);
        // Nothing was stored on busy or internal: the same client_id is
        // sent again, later, a few times (it can never be stored twice).
        if (p && (d.code === 'busy' || d.code === 'internal') && (p.tries || 0) < 5) {
          p.tries = (p.tries || 0) + 1;
          const li = mineLi(clientID);
          if (li) setState(li, 'nouvel essai…', false);
          setTimeout(() => {
            if (pending.get(clientID) === p && ws && ws.readyState === WebSocket.OPEN) sendPending(clientID, p);
          }, 1000 * 2 ** (p.tries - 1) + Math.random() * 500);
          break;
        }
        if (clientID) {
          pending.delete(clientID);
          const li = mineLi(clientID);
          if (li) setState(li, 'non envoyé', true);
        }
        setStatus(d.message || 'Erreur.');
        break;
      }
    }
    if (f.id) requests.delete(f.id);
  }

  // Presence and typing, in small conversations (docs/protocol.md).
  const presence = new Map(); // user → online | away | offline
  let typingUser = 0;
  let typingTimer = 0;
  function showPresence() {
    if (typingUser) return; // the typing line wins for a moment
    const on = [];
    for (const [user, state] of presence) {
      if (user !== me && state !== 'offline') on.push((names.get(user) || 'Un membre') + (state === 'away' ? ' (absent)' : ''));
    }
    presenceLine.textContent = on.length ? 'En ligne : ' + on.join(', ') : '';
  }
  function showTyping(user) {
    typingUser = user;
    presenceLine.textContent = (names.get(user) || 'Un membre') + ' écrit…';
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { typingUser = 0; showPresence(); }, 3000);
  }
  let typingSent = 0;
  function typed() {
    const now = Date.now();
    if (now - typingSent < 2000 || !ws || ws.readyState !== WebSocket.OPEN) return;
    typingSent = now;
    frame('typing', { conversation: conv });
  }
  document.addEventListener('visibilitychange', () => {
    if (ws && ws.readyState === WebSocket.OPEN) {
      frame('status', { state: document.visibilityState === 'visible' ? 'online' : 'away' });
    }
  });

  function mineLi(clientID) {
    return list.querySelector('li[data-client="' + clientID + '"]');
  }

  function setState(li, text, failed) {
    let s = li.querySelector('.chat-state');
    if (!s) {
      s = document.createElement('span');
      s.className = 'chat-state';
      li.querySelector('.chat-meta').append(s);
    }
    s.textContent = text;
    s.classList.toggle('failed', failed);
  }

  // show inserts or updates a message, in seq order.
  function show(m) {
    let li = list.querySelector('li[data-seq="' + m.seq + '"]');
    if (!li && m.sender === me && m.client_id) li = mineLi(m.client_id);
    if (li) {
      li.dataset.seq = String(m.seq);
      fill(li, m);
    } else {
      li = document.createElement('li');
      li.className = 'chat-msg' + (m.sender === me ? ' mine' : '');
      li.dataset.seq = String(m.seq);
      fill(li, m);
      place(li, m.seq);
    }
    if (m.seq > lastSeq) have.add(m.seq);
    while (have.has(lastSeq + 1)) have.delete(++lastSeq);
    markRead();
  }

  function place(li, seq) {
    document.getElementById('chat-empty')?.remove();
    for (const other of list.querySelectorAll('li[data-seq]')) {
      if (Number(other.dataset.seq) > seq) {
        list.insertBefore(li, other);
        return;
      }
    }
    // Own messages not yet acknowledged stay last.
    const firstPending = list.querySelector('li[data-client]:not([data-seq])');
    list.insertBefore(li, firstPending);
    list.scrollTop = list.scrollHeight;
  }

  function fill(li, m) {
    const state = li.querySelector('.chat-state');
    li.replaceChildren();
    const meta = document.createElement('p');
    meta.className = 'chat-meta';
    const who = document.createElement('span');
    who.className = 'chat-sender';
    who.textContent = names.get(m.sender) || 'Un membre';
    const at = new Date(m.at_ms || Date.now());
    const time = document.createElement('time');
    time.dateTime = at.toISOString();
    time.textContent = dateFmt.format(at);
    meta.append(who, ' ', time);
    if (m.edited_at_ms) {
      const ed = document.createElement('span');
      ed.className = 'chat-edited';
      ed.textContent = '(modifié)';
      meta.append(' ', ed);
    }
    if (state) meta.append(state);
    li.append(meta);
    const body = document.createElement('p');
    body.className = 'chat-body';
    if (m.deleted_at_ms) {
      body.classList.add('deleted');
      body.textContent = 'Message supprimé.';
      li.append(body);
      return;
    }
    if (m.reply_to) li.append(quote(m.reply_to));
    appendText(body, m.body || '');
    li.append(body);
    if (m.attachments && m.attachments.length) {
      const ul = document.createElement('ul');
      ul.className = 'chat-attachments';
      ul.dataset.testid = 'attachments';
      m.attachments.forEach((a, i) => {
        const item = document.createElement('li');
        const size = document.createElement('span');
        size.className = 'hint';
        size.textContent = '(' + frBytes(a.size) + ')';
        if (m.seq) {
          const link = document.createElement('a');
          link.href = '/messagerie/' + conv + '/pieces-jointes/' + m.seq + '/' + (i + 1);
          link.setAttribute('download', '');
          link.textContent = a.name;
          item.append(link, ' ', size);
        } else {
          item.append(a.name, ' ', size); // not stored yet
        }
        ul.append(item);
      });
      li.append(ul);
    }
    if (m.seq) li.append(actions(m));
  }

  // quote is the excerpt of the message a reply answers, taken from the
  // page when it is there.
  function quote(seq) {
    const q = document.createElement('blockquote');
    q.className = 'chat-quote';
    q.dataset.replyTo = String(seq);
    q.dataset.testid = 'quote';
    const orig = list.querySelector('li[data-seq="' + seq + '"]');
    const text = document.createElement('span');
    text.className = 'chat-quote-text';
    if (orig) {
      const sender = document.createElement('span');
      sender.className = 'chat-quote-sender';
      sender.textContent = orig.querySelector('.chat-sender')?.textContent || '';
      q.append(sender, ' : ');
      text.textContent = excerpt(orig.querySelector('.chat-body')?.textContent || '');
    } else {
      text.textContent = 'Réponse à un message précédent.';
    }
    q.append(text);
    return q;
  }

  function excerpt(text) {
    const t = text.replace(/\s+/g, ' ').trim();
    return t.length > 120 ? t.slice(0, 120) + '…' : t;
  }

  // postForm builds a small form like the server-rendered ones.
  function postForm(path, fields, label, testid) {
    const f = document.createElement('form');
    f.method = 'post';
    f.action = '/messagerie/' + conv + '/' + path;
    f.className = 'inline';
    for (const [k, v] of Object.entries(fields)) {
      const input = document.createElement('input');
      input.type = 'hidden';
      input.name = k;
      input.value = String(v);
      f.append(input);
    }
    const b = document.createElement('button');
    b.type = 'submit';
    b.className = 'link';
    b.dataset.testid = testid;
    b.textContent = label;
    f.append(b);
    return f;
  }

  // actions are the controls of a stored message, as conversation.html
  // renders them.
  function actions(m) {
    const div = document.createElement('div');
    div.className = 'chat-actions';
    const mine = m.sender === me;
    const recent = mine && Date.now() - (m.at_ms || 0) < editWindowMs;
    if (canPost) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'link';
      b.dataset.action = 'reply';
      b.dataset.testid = 'reply-to';
      b.textContent = 'Répondre';
      div.append(b);
    }
    if (!mine && m.sender !== 0 && !reportConv) div.append(postForm('signaler', { seq: m.seq }, 'Signaler', 'report'));
    if (recent && !moderator) div.append(postForm('retirer', { seq: m.seq }, 'Retirer', 'withdraw'));
    if (moderator) div.append(postForm('moderation', { action: 'supprimer', seq: m.seq }, 'Supprimer', 'mod-delete'));
    if (recent) {
      const d = document.createElement('details');
      d.className = 'chat-edit';
      const sum = document.createElement('summary');
      sum.dataset.testid = 'edit';
      sum.textContent = 'Modifier';
      const f = postForm('modifier', { seq: m.seq }, 'Enregistrer', 'edit-save');
      f.className = '';
      const label = document.createElement('label');
      label.textContent = 'Nouveau texte ';
      const ta = document.createElement('textarea');
      ta.name = 'texte';
      ta.rows = 2;
      ta.maxLength = 4000;
      ta.required = true;
      ta.value = m.body || '';
      label.append(ta);
      f.insertBefore(label, f.querySelector('button'));
      d.append(sum, f);
      div.append(d);
    }
    return div;
  }

  function frBytes(n) {
    const units = ['octets', 'Ko', 'Mo', 'Go'];
    let f = n;
    let i = 0;
    while (f >= 1024 && i < units.length - 1) { f /= 1024; i++; }
    return i === 0 ? n + ' octets' : f.toFixed(1).replace('.', ',') + ' ' + units[i];
  }

  // appendText puts text in el with its web addresses as links; nothing is
  // fetched (no preview).
  const linkRE = /https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]'»]/g;
  function appendText(el, text) {
    let last = 0;
    for (const match of text.matchAll(linkRE)) {
      if (match.index > last) el.append(text.slice(last, match.index));
      const a = document.createElement('a');
      a.href = match[0];
      a.rel = 'noopener noreferrer nofollow';
      a.target = '_blank';
      a.textContent = match[0];
      el.append(a);
      last = match.index + match[0].length;
    }
    if (last < text.length) el.append(text.slice(last));
  }

  function markRead() {
    if (document.visibilityState !== 'visible' || lastSeq <= readSent || !ws || ws.readyState !== WebSocket.OPEN) return;
    readSent = lastSeq;
    frame('read', { conversation: conv, seq: lastSeq });
  }
  document.addEventListener('visibilitychange', markRead);

  function newClientID() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return 'w-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  // An announcement or a report has no composer for this user.
  if (form) form.addEventListener('submit', (ev) => {
    const body = input.value;
    if (!ws || ws.readyState !== WebSocket.OPEN) return; // the plain form posts it
    ev.preventDefault();
    if (body.trim() === '' && attachments.length === 0) return;
    const clientID = newClientID();
    const li = document.createElement('li');
    li.className = 'chat-msg mine';
    li.dataset.client = clientID;
    const p = { body: body.trim() === '' ? '' : body, attachments: attachments.map((a) => a.id), reply_to: replyTo };
    fill(li, { sender: me, body, at_ms: Date.now(), reply_to: replyTo, attachments });
    setState(li, 'envoi…', false);
    document.getElementById('chat-empty')?.remove();
    list.append(li);
    list.scrollTop = list.scrollHeight;
    pending.set(clientID, p);
    sendPending(clientID, p);
    input.value = '';
    attachments = [];
    showAttachments();
    setReply(0);
    input.focus();
  });

  // Replies: "Répondre" on a message quotes it above the composer.
  function setReply(seq) {
    replyTo = seq;
    if (replyField) replyField.value = String(seq);
    if (!replyInfo) return;
    replyInfo.hidden = !seq;
    if (seq) {
      const orig = list.querySelector('li[data-seq="' + seq + '"]');
      replyText.textContent = 'En réponse à ' + (orig?.querySelector('.chat-sender')?.textContent || 'un message') + ' : ' +
        excerpt(orig?.querySelector('.chat-body')?.textContent || '');
    }
  }
  list.addEventListener('click', (ev) => {
    const b = ev.target.closest('[data-action="reply"]');
    if (!b || !form) return;
    const li = b.closest('li[data-seq]');
    if (!li) return;
    setReply(Number(li.dataset.seq));
    input.focus();
  });
  document.getElementById('reply-cancel')?.addEventListener('click', () => setReply(0));
  for (const b of list.querySelectorAll('[data-action="reply"]')) b.hidden = false;

  // Attachments: uploaded into the sender's "Pièces jointes", or chosen in
  // Mes documents; sent by id with the next message.
  function showAttachments() {
    if (!attachList) return;
    attachList.replaceChildren();
    for (const a of attachments) {
      const item = document.createElement('li');
      item.append(a.name + ' (' + frBytes(a.size) + ') ');
      const rm = document.createElement('button');
      rm.type = 'button';
      rm.className = 'link';
      rm.textContent = 'Retirer';
      rm.setAttribute('aria-label', 'Retirer ' + a.name);
      rm.addEventListener('click', () => {
        attachments = attachments.filter((x) => x !== a);
        showAttachments();
      });
      item.append(rm);
      attachList.append(item);
    }
  }
  function attachRefused() {
    if (attachments.length >= maxAttachments) {
      setStatus('5 pièces jointes au plus par message.');
      return true;
    }
    return false;
  }
  function addAttachment(a) {
    if (attachRefused()) return;
    if (a.size > maxAttachmentSize) {
      setStatus('« ' + a.name + ' » dépasse 10 Mo : il ne peut pas être joint.');
      return;
    }
    if (attachments.some((x) => x.id === a.id)) return;
    attachments.push(a);
    showAttachments();
  }
  async function upload(file) {
    if (file.size > maxAttachmentSize) {
      setStatus('« ' + file.name + ' » dépasse 10 Mo : il ne peut pas être joint.');
      return;
    }
    if (attachRefused()) return;
    setStatus('Envoi de « ' + file.name + ' »…');
    try {
      const resp = await fetch('/messagerie/' + conv + '/pieces-jointes?name=' + encodeURIComponent(file.name), {
        method: 'POST', body: file, credentials: 'same-origin',
      });
      const j = await resp.json().catch(() => ({}));
      if (!resp.ok) {
        setStatus(j.message || 'La pièce jointe n\'a pas pu être envoyée.');
        return;
      }
      addAttachment({ id: j.id, name: j.name, size: j.size });
      setStatus('');
    } catch {
      setStatus('La pièce jointe n\'a pas pu être envoyée.');
    }
  }
  if (attachBox && form) {
    attachBox.hidden = false;
    input.required = false; // attachments alone may be sent
    attachInput.addEventListener('change', async () => {
      for (const file of [...attachInput.files]) await upload(file);
      attachInput.value = '';
    });
    let docsLoaded = false;
    docsSelect.addEventListener('focus', async () => {
      if (docsLoaded) return;
      docsLoaded = true;
      try {
        const sp = await (await fetch('/api/v1/files/spaces', { credentials: 'same-origin' })).json();
        const own = (sp.spaces || []).find((x) => x.kind === 'personal');
        if (!own) return;
        // The root and its folders one level down (Pièces jointes among them).
        const add = async (folder, prefix) => {
          const resp = await fetch('/api/v1/files/spaces/' + own.id + '/items' + (folder ? '?folder=' + folder : ''), { credentials: 'same-origin' });
          const l = await resp.json();
          for (const n of l.children || []) {
            if (n.kind === 'folder' && !folder) await add(n.id, n.name + ' / ');
            if (n.kind !== 'file') continue;
            const o = document.createElement('option');
            o.value = String(n.id);
            o.textContent = prefix + n.name + ' (' + frBytes(n.size) + ')';
            o.dataset.name = n.name;
            o.dataset.size = String(n.size);
            docsSelect.append(o);
          }
        };
        await add(0, '');
      } catch { /* the picker stays empty; uploads still work */ }
    });
    docsSelect.addEventListener('change', () => {
      const o = docsSelect.selectedOptions[0];
      if (o && o.value) addAttachment({ id: Number(o.value), name: o.dataset.name, size: Number(o.dataset.size) });
      docsSelect.value = '';
    });
  }

  if (input) input.addEventListener('input', typed);
  if (input) input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });

  list.scrollTop = list.scrollHeight; // the latest messages first in view
  connect();
}
