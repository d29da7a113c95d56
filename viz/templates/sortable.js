  // Sorting a table by a column (numbers as numbers), both ways.
  document.querySelectorAll("table.sortable th").forEach(function (th, column) {
    th.style.cursor = "pointer";
    th.addEventListener("click", function () {
      var body = th.closest("table").tBodies[0], rows = Array.from(body.rows);
      var up = th.dataset.sorted !== "up", numeric = th.dataset.type === "number";
      th.closest("tr").querySelectorAll("th").forEach(function (other) { delete other.dataset.sorted; });
      th.dataset.sorted = up ? "up" : "down";
      function key(row) {
        var cell = row.cells[column], text = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
        return numeric ? (text === "" ? -Infinity : Number(text)) : text.toLowerCase();
      }
      rows.sort(function (a, b) { var x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1); });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
