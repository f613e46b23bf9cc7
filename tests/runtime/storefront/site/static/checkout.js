// Like Magento's checkout: what the shopper types is kept in localStorage ("checkout-data"),
// the e-mail goes to the analytics vendor hashed ("advanced matching"), and "Next" posts the
// address to the shop's own REST API before the payment step is shown.
(function () {
  const form = document.getElementById("co-shipping-form");
  const field = (name) => form.elements[name].value;
  const address = () => ({
    firstname: field("firstname"), lastname: field("lastname"), street: [field("street[0]")],
    city: field("city"), postcode: field("postcode"), country_id: field("country_id"),
    telephone: field("telephone"),
  });
  form.addEventListener("input", () => {
    localStorage.setItem("checkout-data", JSON.stringify({
      inputFieldEmailValue: field("username"), shippingAddressFromData: address(),
    }));
  });
  document.getElementById("customer-email").addEventListener("change", async (e) => {
    const bytes = new TextEncoder().encode(e.target.value.trim().toLowerCase());
    const digest = await crypto.subtle.digest("SHA-256", bytes);
    const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
    navigator.sendBeacon("https://analytics.tracker.example/collect", JSON.stringify({ev: "checkout_email", em: hex}));
  });
  document.querySelector("#shipping-method-buttons-container button").addEventListener("click", async () => {
    await fetch("/rest/default/V1/guest-carts/demo/shipping-information", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({addressInformation: {shipping_address: address(), email: field("username")}}),
    });
    document.getElementById("payment").hidden = false;
  });
  document.querySelector("#payment button").addEventListener("click", () => {
    fetch("/rest/default/V1/guest-carts/demo/payment-information", {method: "POST", body: "{}"});
  });
})();
