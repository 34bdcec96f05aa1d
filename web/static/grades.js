// Entry grid of the Notes pages: Enter and the arrow keys move between the
// grade fields, as in a spreadsheet. The form works the same without it.
const grid = document.querySelector('[data-grades-grid]');
if (grid) {
  const inputs = Array.from(grid.querySelectorAll('input[data-grade]'));
  grid.addEventListener('keydown', (ev) => {
    const i = inputs.indexOf(ev.target);
    if (i < 0) return;
    let next = -1;
    if (ev.key === 'ArrowDown' || (ev.key === 'Enter' && !ev.shiftKey)) next = i + 1;
    if (ev.key === 'ArrowUp' || (ev.key === 'Enter' && ev.shiftKey)) next = i - 1;
    if (next < 0 && ev.key !== 'ArrowUp' && !(ev.key === 'Enter' && ev.shiftKey)) return;
    if (ev.key === 'Enter' && next >= inputs.length) return; // the last Enter submits
    ev.preventDefault();
    if (next >= 0 && next < inputs.length) {
      inputs[next].focus();
      inputs[next].select();
    }
  });
}

// Deleting asks first (without JS the button deletes at once).
for (const form of document.querySelectorAll('form[data-confirm]')) {
  form.addEventListener('submit', (ev) => {
    if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
  });
}
