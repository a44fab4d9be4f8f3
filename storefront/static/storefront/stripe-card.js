// Stripe Elements (only loaded with the stripe gateway): the card never touches our server, only its
// PaymentMethod id does, which the form posts as `token`.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("payment-form");
  var stripe = Stripe(form.dataset.stripeKey);
  var card = stripe.elements().create("card");
  var errors = document.getElementById("card-errors");
  card.mount("#card-element");
  form.addEventListener("submit", function (event) {
    if (form.elements.token.value) return;
    event.preventDefault();
    form.querySelector("button[type=submit]").disabled = true;
    stripe.createPaymentMethod({ type: "card", card: card }).then(function (result) {
      if (result.error) {
        errors.textContent = result.error.message;
        form.querySelector("button[type=submit]").disabled = false;
        return;
      }
      form.elements.token.value = result.paymentMethod.id;
      form.submit();
    });
  });
});
