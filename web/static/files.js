// Préau — the Documents pages (/documents/…).
//
// The lists are rendered by the server. Here: uploads from the file picker
// or by drag-and-drop, several at once, each with a progress bar (XHR upload
// progress); files over the one-request limit go in parts through a
// resumable upload (a dropped part is sent again); and the actions —
// new folder, rename, share, versions, delete, restore — through
// /api/v1/files (docs/files.md). Text is only ever set with textContent.

const root = document.getElementById('documents');
if (root) start(root);

function start(root) {
  const space = Number(root.dataset.space);
  const folder = Number(root.dataset.folder || 0);
  const maxUpload = Number(root.dataset.maxUpload || 0);
  const maxResumable = Number(root.dataset.maxResumable || 0);
  const resumable = root.dataset.resumable === 'true';
  const partSize = Number(root.dataset.partSize || 0);
  // direct: the parts go straight to the file store (MinIO) with URLs
  // Préau signs after its checks; Préau then checks each part's size.
  const direct = root.dataset.direct === 'true';
  const errorBox = document.getElementById('files-error');
  const uploads = document.getElementById('uploads');

  function showError(msg) {
    if (!errorBox) { alert(msg); return; }
    errorBox.textContent = msg;
    errorBox.hidden = false;
  }

  async function api(method, url, body) {
    const opts = { method, headers: {} };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    const resp = await fetch(url, opts);
    let data = null;
    if (resp.status !== 204) {
      try { data = await resp.json(); } catch { data = null; }
    }
    if (!resp.ok) {
      const err = new Error((data && data.message) || `Erreur ${resp.status}.`);
      err.status = resp.status;
      err.data = data;
      throw err;
    }
    return data;
  }

  // ---- uploads ----------------------------------------------------------

  function progressItem(file) {
    const li = document.createElement('li');
    const name = document.createElement('span');
    name.className = 'upload-name';
    name.textContent = file.name;
    const bar = document.createElement('progress');
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute('aria-label', 'Envoi de ' + file.name);
    const status = document.createElement('span');
    status.className = 'upload-status';
    status.textContent = 'En attente…';
    li.append(name, ' ', bar, ' ', status);
    uploads.append(li);
    return {
      progress(done, total) {
        bar.value = total ? Math.round((done / total) * 100) : 100;
        status.textContent = bar.value + ' %';
      },
      finish(ok, msg) {
        li.dataset.state = ok ? 'ok' : 'error';
        status.textContent = msg;
        if (ok) bar.value = 100;
      },
    };
  }

  // sendOnce sends one body with XHR (fetch has no upload progress). A
  // request that stalls — no byte sent for a minute, or no answer two
  // minutes after the last byte — is abandoned as a network error, so that
  // a part is sent again instead of waiting for ever on a dead connection
  // (a slow one keeps making progress and is never cut).
  const stallSending = 60 * 1000;
  const stallAnswer = 120 * 1000;
  function sendOnce(method, url, body, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      let watchdog = 0;
      const watch = (ms) => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => xhr.abort(), ms);
      };
      xhr.open(method, url);
      xhr.responseType = 'json';
      xhr.upload.onprogress = (e) => {
        watch(stallSending);
        if (e.lengthComputable) onProgress(e.loaded, e.total);
      };
      xhr.upload.onload = () => watch(stallAnswer);
      xhr.onload = () => {
        clearTimeout(watchdog);
        if (xhr.status >= 200 && xhr.status < 300) { resolve(xhr.response); return; }
        const err = new Error((xhr.response && xhr.response.message) || `Erreur ${xhr.status}.`);
        err.status = xhr.status;
        reject(err);
      };
      const lost = (msg) => () => {
        clearTimeout(watchdog);
        const e = new Error(msg);
        e.network = true;
        reject(e);
      };
      xhr.onerror = lost('Connexion interrompue.');
      xhr.onabort = lost('La connexion ne répond plus.');
      watch(stallSending);
      xhr.send(body);
    });
  }

  async function uploadSmall(file, item) {
    const url = `/api/v1/files/spaces/${space}/upload?folder=${folder}&name=${encodeURIComponent(file.name)}`;
    await sendOnce('POST', url, file, (done, total) => item.progress(done, total));
  }

  // sendPart sends part n of an upload: to Préau, or straight to the store
  // with a presigned URL, asked eight at a time and renewed after four
  // minutes (they are valid five); Préau checks the parts in the store when
  // the upload completes.
  const partURLs = new Map(); // upload id → {from, urls: Map(n → url), at}
  async function partURL(up, n) {
    let batch = partURLs.get(up.id);
    if (!batch || !batch.urls.has(n) || Date.now() - batch.at > 4 * 60 * 1000) {
      const got = await api('POST', `/api/v1/files/uploads/${up.id}/part-urls`, { from: n, count: 8 });
      batch = { urls: new Map(got.urls.map((u) => [u.n, u.url])), at: Date.now() };
      partURLs.set(up.id, batch);
    }
    return batch.urls.get(n);
  }
  async function sendPart(up, n, part, onProgress) {
    if (!direct) {
      await sendOnce('PUT', `/api/v1/files/uploads/${up.id}/parts/${n}`, part, onProgress);
      return;
    }
    await sendOnce('PUT', await partURL(up, n), part, onProgress);
  }

  // uploadResumable sends a large file in parts; a part lost to a dropped
  // connection is sent again (three tries, then the user may retry later:
  // the upload stays open a day).
  async function uploadResumable(file, item) {
    const up = await api('POST', '/api/v1/files/uploads', { space, folder, name: file.name, size: file.size });
    const have = new Set(up.received);
    let sent = 0;
    for (let n = 1; n <= up.parts; n++) {
      const start = (n - 1) * up.part_size;
      const part = file.slice(start, Math.min(start + up.part_size, file.size));
      if (have.has(n)) { sent += part.size; continue; }
      for (let attempt = 1; ; attempt++) {
        try {
          await sendPart(up, n, part, (done) => item.progress(sent + done, file.size));
          break;
        } catch (e) {
          if (!e.network || attempt >= 3) throw e;
          await new Promise((r) => setTimeout(r, 1000 * attempt));
        }
      }
      sent += part.size;
      item.progress(sent, file.size);
    }
    await api('POST', `/api/v1/files/uploads/${up.id}/complete`);
  }

  async function uploadAll(list) {
    if (!uploads || list.length === 0) return;
    let failed = 0;
    for (const file of list) {
      const item = progressItem(file);
      try {
        // Past two parts, send in parts: a dropped connection then costs
        // one part, and no request outlives the server's read timeout.
        if (resumable && partSize && file.size > 2 * partSize && file.size <= maxResumable) {
          await uploadResumable(file, item);
        } else {
          await uploadSmall(file, item);
        }
        item.finish(true, 'Envoyé');
      } catch (e) {
        failed++;
        item.finish(false, e.message);
      }
    }
    if (failed === 0) location.reload();
  }

  // Without this script the picker's form posts the files; with it, they
  // leave as soon as they are chosen, with progress.
  const sendButton = document.getElementById('send-files');
  if (sendButton) sendButton.hidden = true;
  const input = document.getElementById('fichiers');
  if (input) {
    input.addEventListener('change', () => {
      const list = Array.from(input.files);
      input.value = '';
      uploadAll(list);
    });
  }
  const drop = document.getElementById('drop');
  if (drop) {
    drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (e) => {
      e.preventDefault();
      drop.classList.remove('over');
      uploadAll(Array.from(e.dataTransfer.files));
    });
  }

  // ---- folders and actions ----------------------------------------------

  const newFolder = document.getElementById('new-folder');
  if (newFolder) {
    newFolder.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        await api('POST', `/api/v1/files/spaces/${space}/folders`, { parent: folder, name: newFolder.elements.nom.value });
        location.reload();
      } catch (err) { showError(err.message); }
    });
  }

  const renameDialog = document.getElementById('rename-dialog');
  const shareDialog = document.getElementById('share-dialog');
  const versionsDialog = document.getElementById('versions-dialog');
  let current = null; // the row an open dialog is about

  document.addEventListener('click', async (e) => {
    const btn = e.target.closest('button[data-action]');
    if (!btn) return;
    const row = btn.closest('tr[data-id]');
    if (!row) return;
    const id = Number(row.dataset.id);
    current = row;
    try {
      switch (btn.dataset.action) {
        case 'delete':
          await api('DELETE', `/api/v1/files/items/${id}`);
          location.reload();
          break;
        case 'restore':
          await api('POST', `/api/v1/files/items/${id}/restore`);
          location.reload();
          break;
        case 'purge':
          if (!confirm(`Supprimer définitivement « ${row.dataset.name} » ?`)) return;
          await api('POST', `/api/v1/files/items/${id}/purge`);
          location.reload();
          break;
        case 'rename':
          document.getElementById('rename-name').value = row.dataset.name;
          renameDialog.showModal();
          break;
        case 'share':
          await openShare(id, row.dataset.name);
          break;
        case 'versions':
          await openVersions(id);
          break;
        case 'move':
          openMove(row);
          break;
        case 'copy':
          await openCopy(row);
          break;
      }
    } catch (err) { showError(err.message); }
  });

  if (renameDialog) {
    renameDialog.addEventListener('close', async () => {
      if (renameDialog.returnValue !== 'ok' || !current) return;
      try {
        await api('PATCH', `/api/v1/files/items/${current.dataset.id}`, { name: document.getElementById('rename-name').value });
        location.reload();
      } catch (err) { showError(err.message); }
    });
  }

  async function renderShares(id) {
    const list = document.getElementById('share-list');
    list.replaceChildren();
    const shares = await api('GET', `/api/v1/files/items/${id}/shares`);
    if (shares.length === 0) {
      const li = document.createElement('li');
      li.textContent = 'Pas encore partagé.';
      list.append(li);
    }
    for (const sh of shares) {
      const li = document.createElement('li');
      const what = sh.grantee_kind === 'class' ? 'Classe ' : '';
      li.textContent = what + sh.grantee_name + (sh.write ? ' (lecture et écriture) ' : ' (lecture) ');
      const rm = document.createElement('button');
      rm.type = 'button';
      rm.textContent = 'Retirer';
      rm.addEventListener('click', async () => {
        try {
          await api('DELETE', `/api/v1/files/items/${id}/shares/${sh.grantee_kind}/${sh.grantee_id}`);
          await renderShares(id);
        } catch (err) { showError(err.message); }
      });
      li.append(rm);
      list.append(li);
    }
  }

  // The class's pupils, for a share with one person: only those who may
  // list the class (its teachers, staff) get them; others share with the
  // class as a whole.
  async function loadPupils() {
    const row = document.getElementById('share-person-row');
    const sel = document.getElementById('share-person');
    sel.replaceChildren(option('', 'toute la classe'));
    row.hidden = true;
    const cls = document.getElementById('share-class').value;
    if (!cls) return;
    try {
      const pupils = await api('GET', `/api/v1/classes/${cls}/pupils`);
      for (const p of pupils) sel.append(option(String(p.id), `${p.last_name} ${p.first_name}`));
      row.hidden = pupils.length === 0;
    } catch { /* not allowed to list the class: share with all of it */ }
  }

  async function openShare(id, name) {
    document.getElementById('share-name').textContent = name;
    document.getElementById('share-error').hidden = true;
    await renderShares(id);
    await loadPupils();
    shareDialog.showModal();
  }

  if (shareDialog) {
    document.getElementById('share-class').addEventListener('change', loadPupils);
    document.getElementById('share-form').addEventListener('submit', async (e) => {
      if (e.submitter && e.submitter.value !== 'share') return;
      e.preventDefault();
      const sel = document.getElementById('share-class');
      const box = document.getElementById('share-error');
      if (!sel.value) { box.textContent = 'Aucune classe à choisir.'; box.hidden = false; return; }
      const person = document.getElementById('share-person').value;
      const grantee = person ? { kind: 'person', id: Number(person) } : { kind: 'class', id: Number(sel.value) };
      try {
        await api('PUT', `/api/v1/files/items/${current.dataset.id}/shares`,
          { ...grantee, write: document.getElementById('share-write').checked });
        await renderShares(current.dataset.id);
        box.hidden = true;
      } catch (err) { box.textContent = err.message; box.hidden = false; }
    });
  }

  // Move within the space: up one level, to the root, or into a folder of
  // this list. Copy: into this folder or at the root of any space the user
  // writes to (quotas are per space, so crossing spaces is a copy).
  const moveDialog = document.getElementById('move-dialog');
  let moveMode = 'move';

  function option(value, label) {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = label;
    return o;
  }

  function openMove(row) {
    moveMode = 'move';
    document.getElementById('move-title').textContent = `Déplacer « ${row.dataset.name} »`;
    const sel = document.getElementById('move-target');
    sel.replaceChildren();
    if (folder !== 0) {
      const parent = Number(root.dataset.parent || 0);
      sel.append(option(`${space}:${parent}`, parent === 0 ? 'Racine de l\'espace' : 'Dossier parent'));
    }
    for (const r of document.querySelectorAll('tr[data-kind="folder"]')) {
      if (r !== row) sel.append(option(`${space}:${r.dataset.id}`, 'Dossier « ' + r.dataset.name + ' »'));
    }
    if (sel.options.length === 0) { showError('Aucun dossier où le déplacer ici : créez-en un.'); return; }
    moveDialog.showModal();
  }

  async function openCopy(row) {
    moveMode = 'copy';
    document.getElementById('move-title').textContent = `Copier « ${row.dataset.name} »`;
    const sel = document.getElementById('move-target');
    sel.replaceChildren(option(`${space}:${folder}`, 'Dans ce dossier'));
    const data = await api('GET', '/api/v1/files/spaces');
    for (const sp of data.spaces) {
      if (sp.can_write) sel.append(option(`${sp.id}:0`, sp.name));
    }
    moveDialog.showModal();
  }

  if (moveDialog) {
    moveDialog.addEventListener('close', async () => {
      if (moveDialog.returnValue !== 'ok' || !current) return;
      const [toSpace, toFolder] = document.getElementById('move-target').value.split(':').map(Number);
      try {
        if (moveMode === 'move') {
          await api('PATCH', `/api/v1/files/items/${current.dataset.id}`, { parent: toFolder });
        } else {
          const sel = document.getElementById('move-target');
          const label = sel.options[sel.selectedIndex].textContent;
          await api('POST', `/api/v1/files/items/${current.dataset.id}/copy`, { space: toSpace, folder: toFolder });
          if (toSpace !== space || toFolder !== folder) {
            // The list here does not change: say where the copy went.
            const st = document.getElementById('files-status');
            st.textContent = `« ${current.dataset.name} » a été copié dans ${label}.`;
            st.hidden = false;
            return;
          }
        }
        location.reload();
      } catch (err) { showError(err.message); }
    });
  }

  async function openVersions(id) {
    const list = document.getElementById('versions-list');
    list.replaceChildren();
    const vs = await api('GET', `/api/v1/files/items/${id}/versions`);
    const fmt = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeStyle: 'short', timeZone: 'Europe/Paris' });
    for (const v of vs) {
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = `/api/v1/files/items/${id}/content?version=${v.n}`;
      a.textContent = `Version ${v.n} — ${fmt.format(new Date(v.created_at))}`;
      li.append(a);
      if (v.current) {
        li.append(' (actuelle)');
      } else {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = 'Revenir à cette version';
        b.addEventListener('click', async () => {
          try {
            await api('POST', `/api/v1/files/items/${id}/versions/${v.n}/restore`);
            location.reload();
          } catch (err) { showError(err.message); }
        });
        li.append(' ', b);
      }
      list.append(li);
    }
    versionsDialog.showModal();
  }

  const assign = document.getElementById('new-assignment');
  if (assign) {
    assign.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        await api('POST', `/api/v1/files/classes/${assign.dataset.class}/assignments`, {
          title: assign.elements.titre.value,
          instructions: assign.elements.consignes.value,
          due_at: new Date(assign.elements.echeance.value).toISOString(),
        });
        location.reload();
      } catch (err) { showError(err.message); }
    });
  }
}
