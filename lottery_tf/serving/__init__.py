"""What an exported level is made of: the SavedModel's signatures and the TFLite conversions."""
