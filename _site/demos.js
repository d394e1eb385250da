/* Live demos: the course's shipped models generate images in the reader's browser (no kernel, no
   network). A notebook cell (aigc_course.demos.live_demo) writes a <div class="aigc-demo"> with the
   model's name, the demo's kind and a static figure made by PyTorch; on the website this script finds
   those divs, loads ONNX Runtime Web (WebAssembly, one thread) and the model's ONNX file from the site
   itself (_static/ort/, _static/models/), and adds the controls. Without JavaScript, or when the
   WebAssembly cannot load (e.g. a page opened from file://), the static figure stays. See DESIGN.md,
   "Live demos". No framework: plain DOM and one ort.InferenceSession per model. */
(function () {
  "use strict";
  const here = document.currentScript ? document.currentScript.src : "";
  const STATIC = here ? new URL(".", here).href : "_static/";
  const ORT_URL = STATIC + "ort/ort.wasm.min.js";
  const demos = (window.aigcDemos = window.aigcDemos || []);  // state of each demo (read by the tests)
  let ortPromise = null;
  const sessions = {};

  function loadOrt() {  // the ONNX Runtime Web script, once per page
    if (!ortPromise) {
      ortPromise = new Promise(function (resolve, reject) {
        function ready(ort) {
          ort.env.wasm.wasmPaths = STATIC + "ort/";
          ort.env.wasm.numThreads = 1;  // threads need cross-origin isolation, which servers rarely set
          resolve(ort);
        }
        const amd = typeof window.define === "function" && window.define.amd && typeof window.require === "function";
        if (amd) {
          // a page with widgets has RequireJS: the runtime's UMD bundle then registers itself as an AMD
          // module (a plain <script> would be an anonymous define() that breaks RequireJS), so ask RequireJS
          // (the bundle also sets the global `ort`, and its AMD export may be empty: take whichever is there)
          window.require([ORT_URL], function (mod) { ready(mod && mod.InferenceSession ? mod : window.ort); },
                         function (err) { reject(new Error("could not load " + ORT_URL + ": " + err)); });
          return;
        }
        const s = document.createElement("script");
        s.src = ORT_URL;
        s.onload = function () { ready(window.ort); };
        s.onerror = function () { reject(new Error("could not load " + ORT_URL)); };
        document.head.appendChild(s);
      });
    }
    return ortPromise;
  }

  function session(model) {  // one InferenceSession per model file, shared by the demos of a page
    if (!sessions[model]) {
      sessions[model] = loadOrt().then(function (ort) {
        return ort.InferenceSession.create(STATIC + "models/" + model + ".onnx",
                                           {executionProviders: ["wasm"]});
      });
    }
    return sessions[model];
  }

  /* Latents z ~ N(0, I): mulberry32 uniforms, Box-Muller normals. aigc_course.export.demo_latent is
     the same code in Python, so a seed gives the same z (and images) on the page and in a notebook. */
  function mulberry32(seed) {
    let a = seed >>> 0;
    return function () {
      a = (a + 0x6D2B79F5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function demoLatent(seed, n, zDim) {
    const rand = mulberry32(seed);
    const out = new Float32Array(n * zDim);
    for (let i = 0; i < out.length; i += 2) {
      const u1 = 1 - rand(), u2 = rand();  // u1 in (0, 1]: log(u1) is finite
      const r = Math.sqrt(-2 * Math.log(u1));
      out[i] = r * Math.cos(2 * Math.PI * u2);
      if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
    }
    return out;
  }

  /* images (n, 1, h, w) in [-1, 1] -> a grid of grey pixels on the canvas, 1 canvas pixel per image
     pixel (CSS scales it up, pixelated). */
  function draw(canvas, images, n, h, w, cols) {
    const rows = Math.ceil(n / cols);
    canvas.width = cols * w;
    canvas.height = rows * h;
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(canvas.width, canvas.height);
    for (let k = 0; k < n; k++) {
      const r0 = Math.floor(k / cols) * h, c0 = (k % cols) * w;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const v = Math.min(255, Math.max(0, Math.round((images[k * h * w + y * w + x] + 1) * 127.5)));
          const p = 4 * ((r0 + y) * canvas.width + c0 + x);
          img.data[p] = img.data[p + 1] = img.data[p + 2] = v;
          img.data[p + 3] = 255;
        }
      }
    }
    ctx.putImageData(img, 0, 0);
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text) e.textContent = text;
    return e;
  }

  function setup(root, index) {
    const cfg = {
      model: root.dataset.model, kind: root.dataset.demo, zDim: +root.dataset.zDim,
      n: +(root.dataset.n || 1), cols: +(root.dataset.cols || 1), h: +root.dataset.h, w: +root.dataset.w,
      classes: root.dataset.classes ? JSON.parse(root.dataset.classes) : null,
      scale: +(root.dataset.scale || 3),
    };
    const state = {index: index, model: cfg.model, kind: cfg.kind, state: "loading", runs: 0,
                   seed: +(root.dataset.seed || 0), label: +(root.dataset.label || 0), z: null, labels: null, output: null,
                   loadMs: null, lastRunMs: null, runMs: [],
                   guidance: +(root.dataset.guidance || 1), schedule: root.dataset.schedule || "heun:6",
                   evaluations: 0, stepsDone: 0};
    demos.push(state);
    root.dataset.state = "loading";
    const controls = el("div", {"class": "aigc-demo-controls"});
    const canvas = el("canvas", {"class": "aigc-demo-canvas", "aria-label": "images generated in the browser"});
    const status = el("p", {"class": "aigc-demo-status", "aria-live": "polite"}, "Loading the model in your browser...");
    const live = el("div", {"class": "aigc-demo-live"});
    live.appendChild(canvas);
    const figure = root.querySelector(".aigc-demo-figure");  // controls, static figure, live canvas, caption
    root.insertBefore(controls, figure);
    if (figure) figure.after(live); else root.appendChild(live);
    if (figure && cfg.kind === "latent2d") {  // the grid and the live image side by side (wrapping on phones)
      const row = el("div", {"class": "aigc-demo-row"});
      figure.before(row);
      row.appendChild(figure);
      row.appendChild(live);
    }
    root.appendChild(status);
    const staticFigure = root.querySelector(".aigc-demo-static");
    let busy = false, pending = false, zLive = null;

    function inputs(ort) {
      let z;
      if (cfg.kind === "latent2d") {
        z = new Float32Array(zLive);
      } else {
        z = demoLatent(state.seed, cfg.n, cfg.zDim);
      }
      const feeds = {z: new ort.Tensor("float32", z, [z.length / cfg.zDim, cfg.zDim])};
      state.z = Array.from(z);
      state.labels = null;
      if (cfg.classes) {
        const labels = new BigInt64Array(cfg.n).fill(BigInt(state.label));
        feeds.labels = new ort.Tensor("int64", labels, [cfg.n]);
        state.labels = Array.from(labels, Number);
      }
      return feeds;
    }

    /* Diffusion (6.5): the page integrates dx/dt = v(x, t) from t = 1 (noise) to t = 0, Euler or Heun,
       with classifier-free guidance v = v_none + w (v_label - v_none); ONNX Runtime evaluates only the
       network. The same arithmetic as aigc_course.diffusion.Diffusion.sample on the same noise. */
    async function velocity(ort, sess, x, t, n) {
      const D = cfg.h * cfg.w, none = cfg.classes.length, w = state.guidance;
      const conditional = state.label < none && w !== 0;
      const both = conditional && w !== 1;
      const m = both ? 2 * n : n;
      const xs = new Float32Array(m * D);
      xs.set(x);
      if (both) xs.set(x, n * D);
      const labels = new BigInt64Array(m).fill(BigInt(conditional ? state.label : none));
      if (both) labels.fill(BigInt(none), n);
      const feeds = {x: new ort.Tensor("float32", xs, [m, 1, cfg.h, cfg.w]),
                     t: new ort.Tensor("float32", new Float32Array(m).fill(t), [m]),
                     labels: new ort.Tensor("int64", labels, [m])};
      const out = (await sess.run(feeds))[sess.outputNames[0]].data;
      state.evaluations += 1;
      if (!both) return out;
      const v = new Float32Array(n * D);
      for (let j = 0; j < n * D; j++) v[j] = out[n * D + j] + w * (out[j] - out[n * D + j]);
      return v;
    }

    async function runDiffusion(ort, sess) {
      const n = cfg.n, D = cfg.h * cfg.w;
      const noise = demoLatent(state.seed, n, D);
      let x = Float32Array.from(noise);
      const parts = state.schedule.split(":"), sampler = parts[0], steps = +parts[1];
      state.z = Array.from(noise);
      state.labels = new Array(n).fill(state.label);
      state.evaluations = 0;
      state.stepsDone = 0;
      for (let i = 0; i < steps; i++) {
        const t = Math.fround(1 - i / steps), s = Math.fround(1 - (i + 1) / steps);
        const v = await velocity(ort, sess, x, t, n);
        const next = new Float32Array(n * D);
        for (let j = 0; j < n * D; j++) next[j] = x[j] + (s - t) * v[j];
        if (sampler === "heun" && s > 0) {
          const v2 = await velocity(ort, sess, next, s, n);
          for (let j = 0; j < n * D; j++) next[j] = x[j] + (s - t) * 0.5 * (v[j] + v2[j]);
        }
        x = next;
        state.stepsDone = i + 1;
        draw(canvas, x, n, cfg.h, cfg.w, Math.min(cfg.cols, n));  // the images forming, step by step
        status.textContent = "Step " + (i + 1) + " of " + steps + " (t = " + s.toFixed(2) + ")...";
        await new Promise(function (r) { requestAnimationFrame(function () { r(); }); });
      }
      return x.map(function (v) { return Math.min(1, Math.max(-1, v)); });
    }

    async function run() {  // one generation; a request during a run is merged into one more run
      if (busy) { pending = true; return; }
      busy = true;
      try {
        const ort = await loadOrt();
        const sess = await session(cfg.model);
        const t0 = performance.now();
        if (cfg.kind === "diffusion") {
          const images = await runDiffusion(ort, sess);
          state.lastRunMs = performance.now() - t0;
          state.runMs.push(state.lastRunMs);
          state.output = Array.from(images);
          state.runs += 1;
          root.dataset.runs = String(state.runs);
          status.textContent = cfg.n + " images in " + (state.lastRunMs / 1000).toFixed(1) + " s in your browser, " +
            state.evaluations + " network evaluations (ONNX Runtime Web, WebAssembly, one thread).";
          return;
        }
        const feeds = inputs(ort);
        const result = await sess.run(feeds);
        const images = result[sess.outputNames[0]].data;
        const n = feeds.z.dims[0];
        draw(canvas, images, n, cfg.h, cfg.w, Math.min(cfg.cols, n));
        state.lastRunMs = performance.now() - t0;
        state.runMs.push(state.lastRunMs);
        state.output = Array.from(images);
        state.runs += 1;
        root.dataset.runs = String(state.runs);
        status.textContent = "Generated in your browser in " + state.lastRunMs.toFixed(1) +
          " ms (ONNX Runtime Web, WebAssembly, one thread).";
      } finally {
        busy = false;
      }
      if (pending) { pending = false; await run(); }
    }

    function number(label, value, onchange) {
      const box = el("label", {}, label + " ");
      const input = el("input", {type: "number", min: "0", max: "1000000", step: "1", value: String(value),
                                 "class": "aigc-demo-seed"});
      input.addEventListener("change", function () { onchange(Math.max(0, Math.floor(+input.value || 0))); });
      box.appendChild(input);
      controls.appendChild(box);
      return input;
    }

    function buildControls() {
      if (cfg.kind === "samples" || cfg.kind === "classes") {
        if (cfg.classes) {
          const box = el("label", {}, "class ");
          const select = el("select", {"class": "aigc-demo-class"});
          cfg.classes.forEach(function (name, k) { select.appendChild(el("option", {value: String(k)}, k + " " + name)); });
          select.value = String(state.label);
          select.addEventListener("change", function () { state.label = +select.value; run(); });
          box.appendChild(select);
          controls.appendChild(box);
        }
        const seed = number("seed", state.seed, function (s) { state.seed = s; run(); });
        const again = el("button", {type: "button", "class": "aigc-demo-new"}, "New samples");
        again.addEventListener("click", function () { state.seed += 1; seed.value = String(state.seed); run(); });
        controls.appendChild(again);
        if (staticFigure) staticFigure.classList.add("aigc-demo-replaced");  // the canvas shows the same seed
      } else if (cfg.kind === "diffusion") {
        const box = el("label", {}, "class ");
        const select = el("select", {"class": "aigc-demo-class"});
        cfg.classes.forEach(function (name, k) { select.appendChild(el("option", {value: String(k)}, k + " " + name)); });
        select.appendChild(el("option", {value: String(cfg.classes.length)}, "no label (unconditional)"));
        select.value = String(state.label);
        select.addEventListener("change", function () { state.label = +select.value; run(); });
        box.appendChild(select);
        controls.appendChild(box);
        const gbox = el("label", {}, "guidance w ");
        const guidance = el("input", {type: "range", min: "0", max: "6", step: "0.5", value: String(state.guidance),
                                      "class": "aigc-demo-guidance", "aria-label": "guidance weight"});
        const shown = el("output", {}, state.guidance.toFixed(1));
        guidance.addEventListener("input", function () {  // runs during a drag merge into one more run
          state.guidance = +guidance.value; shown.textContent = state.guidance.toFixed(1); run();
        });
        gbox.appendChild(guidance); gbox.appendChild(shown);
        controls.appendChild(gbox);
        const sbox = el("label", {}, "steps ");
        const steps = el("select", {"class": "aigc-demo-steps"});
        ["euler:4", "euler:8", "euler:16", "heun:3", "heun:6", "heun:12"].forEach(function (v) {
          const parts = v.split(":"), nfe = parts[0] === "heun" ? 2 * +parts[1] - 1 : +parts[1];
          steps.appendChild(el("option", {value: v}, (parts[0] === "heun" ? "Heun " : "Euler ") + parts[1] +
                                                      " (" + nfe + " evaluations)"));
        });
        steps.value = state.schedule;
        steps.addEventListener("change", function () { state.schedule = steps.value; run(); });
        sbox.appendChild(steps);
        controls.appendChild(sbox);
        const seed = number("seed", state.seed, function (s) { state.seed = s; run(); });
        const again = el("button", {type: "button", "class": "aigc-demo-new"}, "New samples");
        again.addEventListener("click", function () { state.seed += 1; seed.value = String(state.seed); run(); });
        controls.appendChild(again);
        if (staticFigure) staticFigure.classList.add("aigc-demo-replaced");
      } else if (cfg.kind === "latent2d") {
        zLive = new Float32Array(cfg.zDim);
        const lim = +(root.dataset.lim || 3);
        const marker = el("canvas", {"class": "aigc-demo-marker", "aria-hidden": "true"});
        if (staticFigure) {
          staticFigure.parentNode.insertBefore(marker, staticFigure.nextSibling);
          staticFigure.parentNode.classList.add("aigc-demo-overlay");
        }
        const sliders = [];
        function showMarker() {  // where z lies on the static grid of decoded images
          if (!staticFigure) return;
          const W = staticFigure.clientWidth, H = staticFigure.clientHeight;
          marker.width = W; marker.height = H;
          const ctx = marker.getContext("2d");
          ctx.clearRect(0, 0, W, H);
          const x = (zLive[0] + lim) / (2 * lim) * W, y = (lim - zLive[1]) / (2 * lim) * H;
          ctx.strokeStyle = "#e4572e"; ctx.lineWidth = 3;
          ctx.beginPath(); ctx.arc(x, y, 9, 0, 2 * Math.PI); ctx.stroke();
        }
        for (let d = 0; d < 2; d++) {
          const box = el("label", {}, "z" + (d + 1) + " ");
          const slider = el("input", {type: "range", min: String(-lim), max: String(lim), step: "0.01", value: "0",
                                      "class": "aigc-demo-slider", "aria-label": "latent coordinate z" + (d + 1)});
          const shown = el("output", {}, "0.00");
          slider.addEventListener("input", function () {
            zLive[d] = +slider.value; shown.textContent = (+slider.value).toFixed(2); showMarker(); run();
          });
          box.appendChild(slider); box.appendChild(shown);
          controls.appendChild(box);
          sliders.push([slider, shown]);
        }
        const walk = el("button", {type: "button", "class": "aigc-demo-walk", "aria-pressed": "false"}, "Latent walk");
        let walking = false, t0 = 0;
        function step(now) {  // a loop through the latent plane (a Lissajous curve), one frame at a time
          if (!walking) return;
          const t = (now - t0) / 1000;
          const z = [2.2 * Math.sin(0.7 * t), 2.2 * Math.sin(1.1 * t + 0.5)];
          z.forEach(function (v, d) {
            zLive[d] = v; sliders[d][0].value = v.toFixed(2); sliders[d][1].textContent = v.toFixed(2);
          });
          showMarker();
          run().then(function () { requestAnimationFrame(step); });
        }
        walk.addEventListener("click", function () {
          walking = !walking;
          walk.setAttribute("aria-pressed", String(walking));
          walk.textContent = walking ? "Stop" : "Latent walk";
          if (walking) { t0 = performance.now(); requestAnimationFrame(step); }
        });
        controls.appendChild(walk);
        showMarker();
        window.addEventListener("resize", showMarker);
      }
      canvas.style.width = (cfg.scale * cfg.w * Math.min(cfg.cols, cfg.n)) + "px";
    }

    const t0 = performance.now();
    session(cfg.model).then(function () {
      state.loadMs = performance.now() - t0;
      buildControls();
      return run();
    }).then(function () {
      state.state = "ready";
      root.dataset.state = "ready";
      const caption = root.querySelector(".aigc-demo-caption");
      if (caption && cfg.kind === "latent2d") {
        caption.textContent = "The grid: the decoder's images over the latent plane [-" + (root.dataset.lim || 3) +
          ", " + (root.dataset.lim || 3) + "]², made by PyTorch when this page was built; the ring marks z. " +
          "The single image: the one decoded at z, in your browser.";
      } else if (caption) {
        caption.classList.add("aigc-demo-replaced");  // the canvas shows the seed's samples live
      }
      root.classList.add("aigc-demo-ready");
    }).catch(function (err) {
      state.state = "error";
      state.error = String(err && err.message || err);
      root.dataset.state = "error";
      controls.remove();
      live.remove();
      status.textContent = "The live demo could not start here (" + state.error + "). It needs the site " +
        "served over http, e.g. `python -m http.server -d _build/html`; the figure above was made by the " +
        "same model.";
    });
  }

  function start() {
    document.querySelectorAll("div.aigc-demo").forEach(function (root, i) { setup(root, i); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
