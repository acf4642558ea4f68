console.log("[install] placeholder");
