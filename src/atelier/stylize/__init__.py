"""Classical photo stylisation: filters, person segmentation and location backgrounds."""
