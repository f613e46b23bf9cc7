(function () {
  "use strict";
  var buttons = document.querySelectorAll(".filter");
  var groups = document.querySelectorAll(".group");
  function show(severity) {
    groups.forEach(function (group) {
      var match = severity === "all" || group.getAttribute("data-severity") === severity;
      group.classList.toggle("hidden", !match);
    });
    buttons.forEach(function (button) {
      button.classList.toggle("active", button.getAttribute("data-filter") === severity);
    });
  }
  buttons.forEach(function (button) {
    button.addEventListener("click", function () { show(button.getAttribute("data-filter")); });
  });
})();
