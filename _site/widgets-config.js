// Loaded between RequireJS and the ipywidgets HTML manager (see nb_ipywidgets_js in _config.yml).
// The manager finds its fonts relative to the URL RequireJS gives its own module id, which by default
// is resolved against the page's folder; point that id at the copy this site serves in _static/widgets/.
(function () {
  var here = document.currentScript.src;                       // .../_static/widgets-config.js?v=...
  var widgets = here.slice(0, here.lastIndexOf("/")) + "/widgets";
  require.config({paths: {"@jupyter-widgets/html-manager/dist": widgets}});
})();
