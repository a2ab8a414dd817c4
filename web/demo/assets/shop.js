/*
 * Lumen, Sightline's demo shop: the cart, kept in localStorage, and what
 * the shop tells the tag about it, as a real shop's pages do.
 *
 * Each change of the cart pushes the cart attribute (lpTag.sdes.push), and
 * so does the cart page; placing the order pushes purchase and empties the
 * cart. Clicking the button of the OLED week offer, which the tag embeds
 * in the TV pages, fires LP_OFFERS OFFER_CLICK on lpTag.events: the shop
 * keeps the coupon, and from then on takes its percentage off the OLED TVs
 * in the cart, in what it shows and in the totals it pushes.
 */
(function (w, d) {
  "use strict";
  var shop = JSON.parse(d.getElementById("shop-data").textContent);
  var offer = shop.offer;
  var bySku = {};
  shop.products.forEach(function (p) { bySku[p.sku] = p; });
  var CART = "lumen_cart", COUPON = "lumen_coupon", MAX_QTY = 10;
  var money = new Intl.NumberFormat("en-US", {style: "currency", currency: shop.currency});

  // ---- storage: localStorage, or the page's memory where it is blocked ----

  var memory = {};

  function load(key) {
    try {
      var v = w.localStorage.getItem(key);
      return v ? JSON.parse(v) : null;
    } catch (e) {
      return memory[key] || null;
    }
  }

  function save(key, v) {
    memory[key] = v;
    try {
      if (v === null) {
        w.localStorage.removeItem(key);
      } else {
        w.localStorage.setItem(key, JSON.stringify(v));
      }
    } catch (e) {
      // blocked or full: the page's memory keeps it
    }
  }

  // lines returns the cart: [{sku, quantity}] of products the shop sells.
  function lines() {
    var c = load(CART);
    return (Array.isArray(c) ? c : []).filter(function (l) {
      return l && bySku[l.sku] && l.quantity > 0;
    });
  }

  // coupon returns the offer when the visitor holds its coupon.
  function coupon() {
    var c = load(COUPON);
    return c && c.code === offer.code ? offer : null;
  }

  function clampQty(v) {
    var n = Math.floor(Number(v));
    return isFinite(n) ? Math.min(Math.max(n, 1), MAX_QTY) : 1;
  }

  // ---- prices, in cents ----

  // priced returns the cart's lines with their amounts, the discount the
  // coupon gives on each, and the totals.
  function priced(cart) {
    var off = coupon(), out = {lines: [], subtotal: 0, discount: 0, numItems: 0, total: 0};
    cart.forEach(function (l) {
      var p = bySku[l.sku], amount = p.cents * l.quantity;
      var discount = off && p.oled ? discountOf(amount, off) : 0;
      out.lines.push({product: p, quantity: l.quantity, amount: amount, discount: discount});
      out.subtotal += amount;
      out.discount += discount;
      out.numItems += l.quantity;
    });
    out.total = out.subtotal - out.discount;
    return out;
  }

  // discountOf is what the offer takes off an amount of OLED TVs.
  function discountOf(cents, off) {
    return Math.round(cents * off.percent / 100);
  }

  function price(cents) {
    return money.format(cents / 100);
  }

  // ---- what the tag hears ----

  function attrProducts(o) {
    return o.lines.map(function (l) {
      var p = l.product;
      return {product: {name: p.name, category: p.category, sku: p.sku, price: p.cents / 100}, quantity: l.quantity};
    });
  }

  function pushCart(o) {
    lpTag.sdes.push({type: "cart", total: o.total / 100, currency: shop.currency, numItems: o.numItems, products: attrProducts(o)});
  }

  // setCart keeps the cart, tells the tag and shows it.
  function setCart(cart) {
    save(CART, cart.length ? cart : null);
    pushCart(priced(cart));
    update();
  }

  function add(sku, quantity) {
    var cart = lines(), line = cart.filter(function (l) { return l.sku === sku; })[0];
    if (line) {
      line.quantity = clampQty(line.quantity + quantity);
    } else {
      cart.push({sku: sku, quantity: clampQty(quantity)});
    }
    setCart(cart);
    say(bySku[sku].name + " is in your cart.");
  }

  // The offer's button: the tag fires OFFER_CLICK with the engagement's
  // payload. Bound through the snippet's queue until the tag has loaded.
  lpTag.events.bind("LP_OFFERS", "OFFER_CLICK", function (e) {
    if (!e || Number(e.campaignId) !== offer.campaignId || Number(e.engagementId) !== offer.engagementId) {
      return;
    }
    var had = coupon();
    save(COUPON, {code: offer.code});
    var cart = lines();
    if (!had && cart.length) {
      pushCart(priced(cart)); // the total changed
    }
    update();
    say("Offer applied: " + offer.percent + "% off the OLED TVs in your cart.");
  });

  // ---- the page ----

  var statusTimer = null;

  // say tells the visitor what happened, in the page's status region.
  function say(text) {
    var s = d.querySelector("[data-status]");
    if (!s) {
      return;
    }
    s.textContent = text;
    clearTimeout(statusTimer);
    statusTimer = setTimeout(function () { s.textContent = ""; }, 4000);
  }

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c];
    });
  }

  // lineHTML writes a line of the cart, its numbers left to fillLine;
  // editable adds its quantity field and Remove button.
  function lineHTML(l, editable) {
    var p = l.product, id = "qty-" + p.sku;
    var qty = editable ?
      "<label for=\"" + esc(id) + "\">Quantity</label><input id=\"" + esc(id) + "\" type=\"number\" min=\"1\" max=\"" + MAX_QTY +
        "\" inputmode=\"numeric\" value=\"" + l.quantity + "\" data-qty-of=\"" + esc(p.sku) + "\">" +
        "<button type=\"button\" class=\"link-btn\" data-remove=\"" + esc(p.sku) + "\">Remove<span class=\"vh\"> " + esc(p.name) + "</span></button>" :
      "<span>Quantity " + l.quantity + "</span>";
    return "<li class=\"line\" data-line=\"" + esc(p.sku) + "\">" +
      "<img src=\"" + esc(p.image) + "\" alt=\"\" width=\"96\" height=\"72\">" +
      "<div><a class=\"line-name\" href=\"" + esc(p.url) + "\">" + esc(p.name) + "</a>" +
      "<span class=\"line-unit\">" + price(p.cents) + " each</span>" +
      "<p class=\"line-discount\" data-discount hidden></p>" +
      "</div><div class=\"line-controls\">" + qty + "<p class=\"line-total\" data-line-total></p></div></li>";
  }

  // fillLine writes the numbers of a line lineHTML wrote.
  function fillLine(n, l) {
    var discount = n.querySelector("[data-discount]");
    discount.hidden = !l.discount;
    discount.textContent = l.discount ? offer.label + ": −" + price(l.discount) : "";
    n.querySelector("[data-line-total]").textContent = price(l.amount - l.discount);
    var field = n.querySelector("[data-qty-of]");
    if (field && Number(field.value) !== l.quantity) {
      field.value = l.quantity;
    }
  }

  function totalsHTML(o) {
    return "<div><dt>Subtotal (" + o.numItems + (o.numItems === 1 ? " item" : " items") + ")</dt><dd data-subtotal>" + price(o.subtotal) + "</dd></div>" +
      (o.discount ? "<div class=\"discount\"><dt>" + esc(offer.label) + "</dt><dd data-discount-total>−" + price(o.discount) + "</dd></div>" : "") +
      "<div><dt>Delivery</dt><dd>Free</dd></div>" +
      "<div class=\"grand\"><dt>Total</dt><dd data-total>" + price(o.total) + "</dd></div>";
  }

  function emptyHTML() {
    return "<div class=\"empty\" data-empty-cart><p>Your cart is empty.</p><p><a class=\"btn btn-primary\" href=\"/demo/tv\">Shop TVs</a></p></div>";
  }

  // hintHTML invites a visitor with OLED TVs and no coupon to the offer.
  function hintHTML(o) {
    var oled = o.lines.some(function (l) { return l.product.oled; });
    return oled && !coupon() ?
      "<p class=\"hint\">OLED week: get " + offer.percent + "% off OLED TVs with the offer on our <a href=\"/demo/tv\">TV pages</a>.</p>" : "";
  }

  // renderLines shows o in el: the lines, written anew when they are not
  // those el shows (so that a quantity changed in the cart keeps its field
  // and the focus), then their numbers and the totals. frame writes what goes
  // around the lines, with an element [data-lines] and one [data-totals].
  function renderLines(el, o, editable, frame) {
    var key = o.lines.map(function (l) { return l.product.sku + (editable ? "" : "x" + l.quantity); }).join(" ");
    if (!o.lines.length) {
      el.innerHTML = emptyHTML();
    } else if (el.getAttribute("data-lines-shown") !== key || !el.querySelector("[data-lines]")) {
      el.innerHTML = frame(o.lines.map(function (l) { return lineHTML(l, editable); }).join(""));
    }
    el.setAttribute("data-lines-shown", key);
    var rows = el.querySelectorAll("[data-line]");
    o.lines.forEach(function (l, i) { fillLine(rows[i], l); });
    var totals = el.querySelector("[data-totals]"), hint = el.querySelector("[data-hint]");
    if (totals) {
      totals.innerHTML = totalsHTML(o);
    }
    if (hint) {
      hint.innerHTML = hintHTML(o);
    }
  }

  function renderCart(el) {
    renderLines(el, priced(lines()), true, function (rows) {
      return "<div data-hint></div><ul class=\"lines\" data-lines>" + rows + "</ul><dl class=\"totals\" data-totals></dl>" +
        "<div class=\"cart-actions\"><a href=\"/demo/tv\">Continue shopping</a><a class=\"btn btn-primary\" href=\"/demo/checkout\">Checkout</a></div>";
    });
  }

  function renderCheckout(el) {
    var o = priced(lines());
    el.classList.toggle("has-items", o.lines.length > 0);
    renderLines(el, o, false, function (rows) {
      return "<section aria-labelledby=\"order-heading\"><h2 id=\"order-heading\">Your order</h2><ul class=\"lines\" data-lines>" + rows +
        "</ul></section><section aria-labelledby=\"pay-heading\"><h2 id=\"pay-heading\">Payment</h2><dl class=\"totals\" data-totals></dl>" +
        "<form data-place-order><p class=\"small\">A demo: no payment is taken and nothing is shipped.</p>" +
        "<button type=\"submit\" class=\"btn btn-primary\">Place order</button></form></section>";
    });
  }

  // orderId returns DEMO- and 8 random letters and digits.
  function orderId() {
    var alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789", b = new Uint8Array(8);
    w.crypto.getRandomValues(b);
    return "DEMO-" + Array.prototype.map.call(b, function (x) { return alphabet[x & 31]; }).join("");
  }

  function placeOrder(el) {
    var o = priced(lines());
    if (!o.lines.length) {
      renderCheckout(el);
      return;
    }
    var id = orderId(), products = attrProducts(o);
    lpTag.sdes.push({type: "purchase", total: o.total / 100, currency: shop.currency, orderId: id,
      cart: {products: products, numItems: o.numItems, total: o.total / 100}});
    save(COUPON, null); // the coupon is spent
    setCart([]);
    el.classList.remove("has-items");
    el.innerHTML = "<div class=\"thanks\"><p>Order <strong class=\"order-id\" data-order-id>" + esc(id) + "</strong> is placed: " +
      o.numItems + (o.numItems === 1 ? " item" : " items") + ", " + price(o.total) + ".</p>" +
      "<p>A confirmation would be on its way to you now.</p><p><a class=\"btn\" href=\"/demo/\">Back to the shop</a></p></div>";
    var h = d.getElementById("checkout-heading");
    h.textContent = "Thank you";
    d.title = "Thank you · Lumen";
    h.focus();
  }

  // update shows the cart wherever the page shows it.
  function update() {
    var o = priced(lines()), off = coupon();
    d.querySelectorAll("[data-cart-count]").forEach(function (b) {
      b.textContent = o.numItems;
      b.toggleAttribute("data-empty", !o.numItems);
    });
    d.querySelectorAll("[data-cart-link]").forEach(function (a) {
      a.setAttribute("aria-label", "Cart, " + o.numItems + (o.numItems === 1 ? " item" : " items"));
    });
    d.querySelectorAll("[data-offer-note]").forEach(function (n) { n.hidden = !off; });
    d.querySelectorAll("[data-offer-price]").forEach(function (n) {
      var p = bySku[n.getAttribute("data-offer-price")];
      n.hidden = !off;
      if (off && p) {
        n.textContent = price(p.cents - discountOf(p.cents, off)) + " in your cart with the OLED week offer";
      }
    });
    var cart = d.querySelector("[data-cart]");
    if (cart) {
      renderCart(cart);
    }
    var checkout = d.querySelector("[data-checkout]");
    if (checkout && !checkout.querySelector("[data-order-id]")) {
      renderCheckout(checkout);
    }
  }

  d.addEventListener("click", function (ev) {
    var addButton = ev.target.closest("[data-add]"), remove = ev.target.closest("[data-remove]");
    if (addButton) {
      var field = addButton.getAttribute("data-qty") && d.getElementById(addButton.getAttribute("data-qty"));
      add(addButton.getAttribute("data-add"), field ? clampQty(field.value) : 1);
    } else if (remove) {
      var sku = remove.getAttribute("data-remove");
      setCart(lines().filter(function (l) { return l.sku !== sku; }));
      say(bySku[sku].name + " is out of your cart.");
      d.getElementById("cart-heading").focus();
    }
  });

  d.addEventListener("change", function (ev) {
    var sku = ev.target.getAttribute && ev.target.getAttribute("data-qty-of");
    if (sku) {
      var q = clampQty(ev.target.value);
      setCart(lines().map(function (l) { return l.sku === sku ? {sku: sku, quantity: q} : l; }));
    }
  });

  d.addEventListener("submit", function (ev) {
    if (ev.target.hasAttribute("data-place-order")) {
      ev.preventDefault();
      placeOrder(d.querySelector("[data-checkout]"));
    }
  });

  // Another tab changed the cart, or the page came back from the
  // back/forward cache: show the cart as it is now.
  w.addEventListener("storage", function (ev) {
    if (ev.key === CART || ev.key === COUPON || ev.key === null) {
      update();
    }
  });
  w.addEventListener("pageshow", function (ev) {
    if (ev.persisted) {
      update();
    }
  });

  update();
  // The cart page tells the tag what the cart holds, as a shop's cart
  // page does.
  var atCart = priced(lines());
  if (d.querySelector("[data-cart]") && atCart.lines.length) {
    pushCart(atCart);
  }
})(window, document);
