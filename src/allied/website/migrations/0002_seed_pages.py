"""The public site's first pages, so the services and about pages exist the day the site opens;
operators change them in the console (/ops/website/pages/) from then on."""

from django.db import migrations

SERVICES = """# Our services

Allied E-Commerce Solutions (AES) runs the work behind an online brand, from the shelf to the
customer's door and the money back to you. Take one service or all of them.

## E-commerce

Your orders from Shopify, WooCommerce, marketplaces such as Daraz, and your own apps arrive in one
place, are checked and reach the warehouse on their own. Stock levels go back to every store.
[More about e-commerce](/ecommerce/)

## Warehousing and fulfilment

We receive your stock, count it and put it on our shelves. Every order is picked, packed and
labelled the same day it arrives. [More about fulfilment](/fulfilment/)

## Last-mile delivery

Our own riders and trusted courier companies deliver to the door, with tracking for your customers.
We collect cash on delivery and pay you out. [More about delivery](/last-mile-delivery/)

## Website services

We build your online store, look after it and connect it to your stock and deliveries.
[More about websites](/website-services/)
"""

ECOMMERCE = """# E-commerce: every order in one place

Sell wherever your customers are. AES connects to your stores and brings every order to one
pipeline, so nothing is missed and nothing is sold twice.

## Where orders come from

- **Shopify** and **WooCommerce** stores, connected with keys you issue and can revoke at any time
- **Marketplaces** such as Daraz
- **Your own apps**, through our API, and spreadsheets you upload

## What happens to an order

1. It arrives within minutes and is checked: address, phone number, products.
2. Stock is reserved for it, so another order cannot take the same unit.
3. It goes to the warehouse floor to be picked and packed.
4. Its tracking code goes back to your store, and your customer can follow the parcel.

## Stock that stays true

Every movement of your stock is recorded. The quantities your stores show are pushed from our
warehouse counts, so you do not oversell.
"""

FULFILMENT = """# Warehousing and fulfilment

Send us your stock once; we keep it safe, counted and ready to ship.

## Receiving

Announce a shipment in the partner portal. When it arrives we count every unit against your
announcement, set damaged items aside and tell you what we found. Then each product goes to its
shelf location.

## Picking and packing

Orders are picked in batches by scanning each product and its shelf, then packed and weighed.
Each parcel gets its label and a packing slip. Orders that reach us by the afternoon cut-off leave
the same day.

## Counts and returns

We count shelves regularly and correct what we find, with a record you can see. Returned parcels
are checked: sellable items go back on the shelf, the rest are set aside for you.

## What you see

The partner portal shows your stock per product, every order and its state, inbound shipments and
returns, at any hour.
"""

LAST_MILE = """# Last-mile delivery and cash on delivery

The last mile decides whether your customer buys again. We make it dependable.

## Our riders and our partners

In the cities we cover, our own riders deliver from local hubs on routes planned each morning.
Elsewhere, trusted courier companies carry the parcel and we follow it for you.

## Tracking for your customers

Each parcel has a tracking code. Your customer sees where it is, when it is expected, and can move
the delivery day or correct the address after confirming a code we send to their phone.

## Cash on delivery

Riders collect cash at the door and hand it back at the hub at the end of their shift, where it is
counted and recorded. We reconcile every collection and pay you out on a fixed schedule, with a
statement of each order.

## When a delivery fails

If no one is home, we try again or contact your customer, and you decide in the portal whether to
reattempt or bring the parcel back.
"""

WEBSITES = """# Website services

A good store sells. We build yours, keep it running and connect it to everything behind it.

## What we do

- Design and build an online store on Shopify or WooCommerce, or a site of your own
- Product pages, photos and descriptions that help your customers decide
- Connection to your stock, orders and deliveries with AES, from the first day
- Updates, security fixes and help when you need a change

## Why with us

Because we also run your warehouse and deliveries, your website shows what is really in stock and
your customers get tracking that works. One partner, one conversation.
"""

ABOUT = """# About Allied E-Commerce Solutions

Allied E-Commerce Solutions (AES) helps brands sell online without building a warehouse, a
delivery fleet or an accounts team for cash collections.

## What we believe

- **Your customer is our customer.** Every parcel carries your name, and we treat it that way.
- **Numbers you can check.** Stock, orders, deliveries and cash are recorded step by step, and you
  see the same records we do.
- **Personal data is held with care.** We collect what a delivery needs, keep it only as long as
  needed, and never sell it.

## How we work

Brand partners send us their stock. Our warehouse team receives it, keeps it and ships every order.
Our riders and courier partners deliver, collect cash on delivery and bring it back; we pay our
partners out on a fixed schedule. Our web team builds and looks after partners' stores.

## Talk to us

Tell us about your brand through the [contact form](/contact/), or sign in to the partner portal if
you already work with us.
"""

PAGES = [
    ("services", "Services", "E-commerce order intake, warehousing and fulfilment, last-mile delivery with cash on delivery, and websites for brands.", SERVICES, True, 10),
    ("ecommerce", "E-commerce", "Orders from Shopify, WooCommerce, marketplaces and your own apps in one pipeline, with stock that stays true.", ECOMMERCE, False, 20),
    ("fulfilment", "Warehousing and fulfilment", "Receiving, storage, same-day picking and packing, counts and returns for online brands.", FULFILMENT, False, 30),
    ("last-mile-delivery", "Last-mile delivery", "Own riders and courier partners, parcel tracking for customers, and cash on delivery paid out to you.", LAST_MILE, False, 40),
    ("website-services", "Website services", "Online stores built, looked after and connected to your stock and deliveries.", WEBSITES, False, 50),
    ("about", "About us", "Who Allied E-Commerce Solutions is and how we work for brand partners.", ABOUT, True, 60),
]


def seed(apps, schema_editor):
    Page = apps.get_model("website", "Page")
    for slug, title, description, body, in_nav, order in PAGES:
        Page.objects.get_or_create(
            slug=slug,
            defaults={
                "title": title,
                "meta_description": description,
                "body": body,
                "show_in_nav": in_nav,
                "nav_order": order,
                "status": "published",
            },
        )


class Migration(migrations.Migration):
    dependencies = [("website", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
